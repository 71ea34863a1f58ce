// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshift: the operator's command line. Reads the agent's JSON API and,
 * when the agent does not answer, the pinned maps directly, so sessions
 * stay inspectable while the agent restarts.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <edgeshift/session.h>
#include "cli.h"
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
	{ "zdm", cmd_zdm, "zdm --container ID --to NODE --session USER:PORT>SVC:PORT [--mode M] [--json]" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: edgeshift [--api URL] [--pin-path DIR] [--timeout-ms N] COMMAND ...\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f, "`edgeshift COMMAND --help` describes a command. The API defaults to\n"
		"$EDGESHIFT_API or %s; without an answer the pinned maps under\n"
		"--pin-path (default %s) are read directly.\n", DEFAULT_API, ES_DEFAULT_PIN_PATH);
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
	static const struct option lopts[] = {
		{ "api", required_argument, NULL, 'a' },
		{ "pin-path", required_argument, NULL, 'p' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct cli c = { .api = getenv("EDGESHIFT_API") ?: DEFAULT_API,
			 .pin_path = ES_DEFAULT_PIN_PATH, .timeout_ms = 2000,
			 .token = getenv("EDGESHIFT_TOKEN") };
	const struct cli_command *cmd;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "+a:p:t:h", lopts, NULL)) != -1) {
		if (opt == 'a')
			c.api = optarg;
		else if (opt == 'p')
			c.pin_path = optarg;
		else if (opt == 't')
			c.timeout_ms = strtol(optarg, NULL, 10);
		else
			return usage(opt == 'h' ? stdout : stderr), opt == 'h' ? 0 : 2;
	}
	if (optind >= argc || c.timeout_ms <= 0)
		return usage(stderr), 2;
	argc -= optind;
	argv += optind;
	cmd = find_command(argv[0]);
	if (cmd)
		ret = cmd->run(&c, argc, argv);
	else
		ret = (fprintf(stderr, "edgeshift: unknown command \"%s\"\n", argv[0]), usage(stderr), 2);
	return ret;
}
