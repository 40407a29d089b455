/* main.c — hdrq's entry point: parse the command line, run the driver. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "driver.h"
#include "options.h"

int main(int argc, char **argv)
{
	struct hq_options o;
	struct hq_diag d;
	signal(SIGPIPE, SIG_IGN); /* a closed stdout shows up as EPIPE: stop quietly */
	diag_init(&d);
	int rc = options_parse(argc, argv, &o, &d);
	if (rc) {
		diag_print(&d, stderr, isatty(STDERR_FILENO));
		options_free(&o);
		return rc;
	}
	rc = driver_run(&o);
	options_free(&o);
	return rc;
}
