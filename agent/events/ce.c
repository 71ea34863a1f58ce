// SPDX-License-Identifier: GPL-2.0-only
/*
 * The CloudEvents 1.0 event, and its two HTTP forms (the HTTP protocol
 * binding): binary content mode puts every attribute in a "ce-" header and
 * the data as the body; structured mode sends the whole event as
 * application/cloudevents+json. The id is made once, when the event is
 * spooled, so every retry and every restart sends the same id and a
 * receiver de-duplicates by source and id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include "util/clock.h"
#include "events_int.h"

/* A random (version 4) UUID: unique across nodes and restarts without a counter to keep. */
static void uuid4(char *out, size_t len)
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != sizeof(b)) {
		uint64_t t = es_realtime_ns() ^ es_now_ns();

		memcpy(b, &t, 8);
		memcpy(b + 8, &t, 8);
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
}

static json_t *rfc3339(uint64_t ns)
{
	time_t sec = ns / NSEC_PER_SEC;
	char buf[40];
	struct tm tm;

	gmtime_r(&sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	return json_sprintf("%s.%06luZ", buf, (unsigned long)(ns % NSEC_PER_SEC / NSEC_PER_USEC));
}

/*
 * The attributes after the core ones; -1 when one cannot be set (a text
 * not UTF-8, no memory): an event without its source or subject would be
 * delivered as another's.
 */
static int attributes(const struct es_events *ev, json_t *ce, const char *where,
		      const char *subject)
{
	unsigned int i;

	if (where && *where &&
	    json_object_set_new(ce, "source", json_sprintf("%s/%s", ev->source, where)))
		return -1;
	if (subject && *subject && json_object_set_new(ce, "subject", json_string(subject)))
		return -1;
	for (i = 0; i < ev->cfg.n_overrides; i++)
		if (json_object_set_new(ce, ev->cfg.overrides[i].name,
					json_string(ev->cfg.overrides[i].value)))
			return -1;
	return 0;
}

char *es_ce_record(const struct es_events *ev, enum es_ev_type type, const char *where,
		   const char *subject, json_t *data)
{
	uint64_t now = es_realtime_ns();
	json_t *ce, *rec = NULL;
	char id[40], *line = NULL;

	uuid4(id, sizeof(id));
	ce = json_pack("{s:s,s:s,s:s,s:s,s:o,s:s}", "specversion", "1.0", "id", id,
		       "type", es_ev_type_name(type), "source", ev->source, "time", rfc3339(now),
		       "datacontenttype", "application/json");
	if (!ce || attributes(ev, ce, where, subject)) {
		json_decref(data);
		goto out;
	}
	/* set_new consumes data even when it fails */
	if (json_object_set_new(ce, "data", data))
		goto out;
	rec = json_pack("{s:I,s:O}", "t", (json_int_t)now, "ce", ce);
	line = rec ? json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
out:
	json_decref(rec);
	json_decref(ce);
	return line;
}

/*
 * A header value as the HTTP binding wants it: printable ASCII but space,
 * '"' and '%' as is, everything else percent-encoded (UTF-8 bytes).
 */
static char *header(const char *name, const char *val)
{
	size_t n = strlen(name), i;
	char *h = malloc(n + 3 * strlen(val) + 3), *p;

	if (!h)
		return NULL;
	p = h + sprintf(h, "%s: ", name);
	for (i = 0; val[i]; i++) {
		unsigned char c = val[i];

		if (c <= ' ' || c >= 0x7f || c == '"' || c == '%')
			p += sprintf(p, "%%%02X", c);
		else
			*p++ = c;
	}
	*p = '\0';
	return h;
}

/* -1 when the header cannot be added: a message without it is not sent */
static int add_header(struct es_ce_msg *m, const char *name, const char *val)
{
	char *h;

	if (m->n_hdr + 1 >= ES_CE_MAX_HDR)
		return -1;
	h = header(name, val);
	if (!h)
		return -1;
	m->hdr_mem[m->n_hdr] = h;
	m->hdr[m->n_hdr++] = h;
	m->hdr[m->n_hdr] = NULL;
	return 0;
}

static int binary(json_t *ce, struct es_ce_msg *m)
{
	const char *key;
	char name[64];
	json_t *v;

	json_object_foreach(ce, key, v) {
		if (!strcmp(key, "data") || !strcmp(key, "datacontenttype") || !json_is_string(v))
			continue;
		snprintf(name, sizeof(name), "ce-%s", key);
		if (add_header(m, name, json_string_value(v)))
			return -1;
	}
	m->content_type = "application/json";
	m->body = json_dumps(json_object_get(ce, "data"), JSON_COMPACT | JSON_PRESERVE_ORDER |
			     JSON_ENCODE_ANY);
	return 0;
}

int es_ce_message(json_t *rec, enum es_ev_mode mode, const json_t *extra, struct es_ce_msg *m)
{
	json_t *ce = json_object_get(rec, "ce");
	const char *id = json_string_value(json_object_get(ce, "id"));
	int ret = 0;

	memset(m, 0, sizeof(*m));
	if (!json_is_object(ce) || !id || !json_is_integer(json_object_get(rec, "t")))
		return -1;
	snprintf(m->id, sizeof(m->id), "%s", id);
	m->emitted_ns = json_integer_value(json_object_get(rec, "t"));
	if (extra) {
		ce = json_deep_copy(ce);
		json_object_update(ce, (json_t *)extra);
	} else {
		json_incref(ce);
	}
	if (mode == ES_EV_BINARY) {
		ret = binary(ce, m);
	} else {
		m->content_type = "application/cloudevents+json; charset=utf-8";
		m->body = json_dumps(ce, JSON_COMPACT | JSON_PRESERVE_ORDER);
	}
	json_decref(ce);
	if (!ret && m->body)
		return 0;
	es_ce_message_free(m);	/* what was built of it */
	return -1;
}

void es_ce_message_free(struct es_ce_msg *m)
{
	unsigned int i;

	for (i = 0; i < m->n_hdr; i++)
		free(m->hdr_mem[i]);
	free(m->body);
	memset(m, 0, sizeof(*m));
}
