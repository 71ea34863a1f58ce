/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The `edgeshift` command line: global options shared by every command,
 * the agent API client and the output helpers. Each command lives in its
 * own cmd_*.c file and is listed in main.c's command table.
 */
#ifndef EDGESHIFT_CLI_H
#define EDGESHIFT_CLI_H

#include <stddef.h>
#include <jansson.h>

#define DEFAULT_API	"http://127.0.0.1:9464"

struct es_maps;

struct cli {
	const char	*api;		/* base URL of the local agent */
	const char	*pin_path;	/* bpffs directory of the pinned maps */
	long		timeout_ms;	/* per HTTP request */
	int		json;		/* print JSON instead of a table */
	const char	*token;		/* $EDGESHIFT_TOKEN: sent as a bearer token when set */
};

/*
 * GET a JSON document from the agent; NULL when it does not answer (errno
 * ECONNREFUSED: fall back to the pins) or answers an error (errno EINVAL).
 */
json_t *cli_api_get(const struct cli *c, const char *path, char *err, size_t err_len);
/* POST body (may be NULL) and return the decoded answer, as cli_api_get. */
json_t *cli_api_post(const struct cli *c, const char *path, json_t *body, char *err,
		     size_t err_len);
int cli_open_pins(const struct cli *c, struct es_maps *m);
/* Print j as JSON or with table(), then drop the reference; returns 0. */
int cli_emit(const struct cli *c, json_t *j, void (*table)(json_t *));
void cli_human_bytes(unsigned long long v, char *buf, size_t len);
/* Append "?key=val" or "&key=val" (URL-escaped) to path. */
int cli_append_arg(char *path, size_t len, const char *key, const char *val);

/* Commands: argv[0] is the command name; exit status 0, 1 failure, 2 usage. */
int cmd_sessions(const struct cli *c, int argc, char **argv);
int cmd_status(const struct cli *c, int argc, char **argv);
int cmd_migrate(const struct cli *c, int argc, char **argv);
int cmd_place(const struct cli *c, int argc, char **argv);
int cmd_session_test(const struct cli *c, int argc, char **argv);
int cmd_zdm(const struct cli *c, int argc, char **argv);
int cmd_advise(const struct cli *c, int argc, char **argv);

struct es_opt_multi;
/*
 * advise_patch.c: adds "patch" to an advice (null when nothing is scaled
 * out): the scaled block's Deployment at its replicas ("BLOCK=N" in reps)
 * plus one, and the kubectl command that would apply it; and
 * "scale_in_patches", the same at one fewer for each block scaled in. -1
 * with a message when reps has no count for such a block.
 */
int advise_patch(json_t *advice, const struct es_opt_multi *reps, const char *ns);
/* N for block in reps' "BLOCK=N" entries; -1 when absent or not a count >= 1. */
long advise_replicas_of(const struct es_opt_multi *reps, const char *block);
/* Prints the patch's command under a table; nothing without one. */
void advise_patch_print(json_t *advice);

struct es_adv_block;
/*
 * advise_scaled.c: --scaled BLOCK=R:P,R:P... into the named blocks'
 * scale-out history; -EINVAL with a message on a bad entry.
 */
int advise_scaled(const struct es_opt_multi *m, struct es_adv_block *b, unsigned int nblocks);
/* The index of the block arg ("BLOCK=...") names, -1 when none or no '='. */
int advise_block_named(const char *arg, const struct es_adv_block *b, unsigned int nblocks);

#endif
