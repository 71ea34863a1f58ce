// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshift: the operator's command line. Reads the agent's JSON API and,
 * when the agent does not answer, the pinned maps directly, so sessions
 * stay inspectable while the agent restarts.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <edgeshift/session.h>
#include "cli.h"
#include "tool/opts.h"
#include "bpf/es_maps.h"

struct cli_command {
	const char	*name;
	int		(*run)(const struct cli *c, int argc, char **argv);
	const char	*usage;
};

static const struct cli_command commands[] = {
	{ "sessions", cmd_sessions,
	  "sessions [--sort bytes|packets|first|last|latency] [--top N] [--order asc|desc]\n"
	  "           [--proto tcp|udp|icmp|icmpv6] [--interface NAME] [--addr IP]\n"
	  "           [--port N] [--state open|closed|any] [--json]" },
	{ "status", cmd_status, "status [--json]" },
	{ "migrate", cmd_migrate, "migrate --container ID --to NODE --mode partial|complete\n"
	  "           [--stop-source] [--wait-s N] [--json]\n"
	  "  migrate --stop-source-of ID | --status ID | --merge-logs FILE... [--id ID] [--json]" },
	{ "place", cmd_place, "place --regions FILE --request FILE [--json]" },
	{ "session-test", cmd_session_test, "session-test --to ADDR --rate MBIT [--json] ..." },
	{ "advise", cmd_advise, "advise --block NAME=CGROUP... --perf FILE [--perf-kind K]\n"
	  "           [--interval-ms N] [--samples N] [--json]\n"
	  "  advise --agent [--json]" },
	{ "zdm", cmd_zdm, "zdm --container ID --to NODE [--session USER:PORT>SVC:PORT[,...]] [--mode M] [--json]" },
};

#define F(field)	ES_OPT_AT(struct cli, field)
static const struct es_opt opts[] = {
	ES_OPT_STR(F(api), "api", 'a', "URL", "the agent's API"),
	ES_OPT_STR(F(pin_path), "pin-path", 'p', "DIR", "the pinned maps"),
	ES_OPT_UINT(F(timeout_ms), "timeout-ms", 't', 1, LONG_MAX, "N",
		    "per HTTP request (default 2000)"),
	{ }
};

/* Options end at the command: what follows is the command's. */
static struct es_opts cli = {
	.prog	= "edgeshift",
	.opts	= opts,
	.usage	= "[--api URL] [--pin-path DIR] [--timeout-ms N] COMMAND ...",
	.args	= true,
	.stop	= true,
};

/* The help lists the commands, from the command table. */
static void set_help_epilog(void)
{
	static char text[2048];
	size_t i, len = 0;

	len += snprintf(text, sizeof(text), "Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]) && len < sizeof(text); i++)
		len += snprintf(text + len, sizeof(text) - len, "  %s\n", commands[i].usage);
	if (len < sizeof(text))
		snprintf(text + len, sizeof(text) - len,
			 "`edgeshift COMMAND --help` describes a command. The API defaults to\n"
			 "$EDGESHIFT_API or %s; without an answer the pinned maps under\n"
			 "--pin-path (default %s) are read directly.\n", DEFAULT_API,
			 ES_DEFAULT_PIN_PATH);
	cli.epilog = text;
}

static const struct cli_command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct cli c = { .api = getenv("EDGESHIFT_API") ?: DEFAULT_API,
			 .pin_path = ES_DEFAULT_PIN_PATH, .timeout_ms = 2000,
			 .token = getenv("EDGESHIFT_TOKEN") };
	const struct cli_command *cmd;
	int n, ret;

	set_help_epilog();
	n = es_opts_parse(&cli, argc, argv, &c);
	if (n <= 0)
		return n ? 2 : 0;
	if (n >= argc)
		return es_opts_help(&cli, stderr), 2;
	argc -= n;
	argv += n;
	cmd = find_command(argv[0]);
	if (cmd)
		ret = cmd->run(&c, argc, argv);
	else
		ret = (fprintf(stderr, "edgeshift: unknown command \"%s\"\n", argv[0]),
		       es_opts_help(&cli, stderr), 2);
	return ret;
}
