// SPDX-License-Identifier: GPL-2.0-only
/*
 * The scale advisor's parts on fixed inputs: the ring, the normalisation,
 * distance and correlation, the ranking on made-up series whose
 * answer is known, and the cgroup readers of both layouts against a
 * directory tree laid out like /sys/fs/cgroup (v1 controllers, v2 unified).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <jansson.h>
#include "harness.h"
#include "advisor/advisor.h"
#include "util/fs_util.h"

#define NEAR(a, b)	(fabs((a) - (b)) < 1e-9)

TEST(ring_keeps_the_newest)
{
	struct es_adv_ring *r = calloc(1, sizeof(*r));
	double out[ES_ADV_RING_LEN + 8];
	unsigned int i;

	ASSERT_TRUE(r != NULL, "calloc");
	for (i = 0; i < 600; i++)
		es_adv_ring_push(r, i);
	EXPECT_EQ(r->n, ES_ADV_RING_LEN, "bounded");
	EXPECT_EQ(es_adv_ring_last(r, out, 3), 3, "three asked");
	EXPECT_TRUE(out[0] == 597 && out[1] == 598 && out[2] == 599, "oldest first");
	EXPECT_EQ(es_adv_ring_last(r, out, ES_ADV_RING_LEN + 8), ES_ADV_RING_LEN, "no more than held");
	EXPECT_TRUE(out[0] == 600 - ES_ADV_RING_LEN, "the oldest kept");
	free(r);
}

TEST(normalise_distance_pearson)
{
	double x[] = { 2, 4, 6 }, y[] = { 1, 3, 5 }, z[] = { 6, 4, 2 }, c[] = { 5, 5, 5 };
	double nx[3], ny[3], nz[3], nc[3] = { 9, 9, 9 };

	EXPECT_TRUE(es_adv_normalise(x, 3, 0, nx), "a moving series");
	EXPECT_TRUE(NEAR(nx[0], 0) && NEAR(nx[1], 0.5) && NEAR(nx[2], 1), "min-max");
	EXPECT_TRUE(es_adv_normalise(y, 3, 0, ny) && es_adv_normalise(z, 3, 0, nz), "moving");
	EXPECT_TRUE(NEAR(es_adv_distance(nx, ny, 3), 0), "same shape, other level: 0");
	EXPECT_TRUE(NEAR(es_adv_distance(nx, nz, 3), sqrt(2.0 / 3)), "mirrored");
	EXPECT_TRUE(NEAR(es_adv_pearson(x, y, 3), 1), "r = 1");
	EXPECT_TRUE(NEAR(es_adv_pearson(x, z, 3), -1), "r = -1");
	EXPECT_TRUE(NEAR(es_adv_pearson(x, c, 3), 0), "constant: 0");
	EXPECT_TRUE(!es_adv_normalise(c, 3, 0, nc), "constant is flat");
	EXPECT_TRUE(nc[0] == 0 && nc[2] == 0, "flat reads as zeros");
	EXPECT_TRUE(!es_adv_normalise(x, 3, 4, nx), "a range of 4 is not above a floor of 4");
}

/*
 * Ten samples: the service is steady for five, then its latency grows by
 * the same step each interval (a queue filling at a constant excess).
 * "logic" is throttled from then on, "front" keeps its CPU (noise below
 * the floor), "db" gets less work once logic is held back.
 */
static void fill(struct es_adv_block *b, struct es_adv_ring *perf, bool throughput)
{
	unsigned int i;

	memset(b, 0, 3 * sizeof(*b));
	memset(perf, 0, sizeof(*perf));
	strcpy(b[0].name, "front");
	strcpy(b[1].name, "logic");
	strcpy(b[2].name, "db");
	for (i = 0; i < 10; i++) {
		bool late = i >= 5;

		es_adv_ring_push(perf, throughput ? (late ? 1500 - 100.0 * (i - 4) : 1500)
						  : (late ? 300 + 5000.0 * (i - 4) : 300));
		es_adv_ring_push(&b[0].res[ES_ADV_CPU], 0.15 + (i % 2) * 0.001);
		es_adv_ring_push(&b[1].res[ES_ADV_CPU], late ? 0.10 : 0.15);
		es_adv_ring_push(&b[1].res[ES_ADV_THROTTLED], late ? 0.85 + (i % 2) * 0.02 : 0);
		es_adv_ring_push(&b[2].res[ES_ADV_CPU], late ? 0.10 : 0.15);
		es_adv_ring_push(&b[0].res[ES_ADV_MEMORY], 1 << 20);
		es_adv_ring_push(&b[1].res[ES_ADV_MEMORY], 1 << 20);
		es_adv_ring_push(&b[2].res[ES_ADV_MEMORY], 1 << 20);
		es_adv_ring_push(&b[0].res[ES_ADV_THROTTLED], 0);
		es_adv_ring_push(&b[2].res[ES_ADV_THROTTLED], 0);
		es_adv_ring_push(&b[0].res[ES_ADV_IO], 0);
		es_adv_ring_push(&b[1].res[ES_ADV_IO], 0);
		es_adv_ring_push(&b[2].res[ES_ADV_IO], 0);
	}
}

static void expect_logic_first(const struct es_adv_score *s)
{
	unsigned int i;

	EXPECT_EQ(s[0].block, 1, "logic first");
	EXPECT_EQ(s[0].res, ES_ADV_THROTTLED, "by its throttling");
	EXPECT_TRUE(s[0].distance < 0.1, "near the performance change");
	EXPECT_TRUE(s[0].r > 0.95, "and correlated with it");
	EXPECT_EQ(s[1].res, -1, "nothing of the others moved with the change");
	EXPECT_EQ(s[2].res, -1, "nothing of the others moved with the change");
	for (i = 1; i < 3; i++) {
		const struct es_adv_score *o = &s[i];

		EXPECT_TRUE(NEAR(o->distance, 1), "no driver scores the worst distance");
		if (o->block == 0)
			EXPECT_TRUE(o->per_res[ES_ADV_CPU].flat, "front's CPU noise is under the floor");
		else
			EXPECT_TRUE(!o->per_res[ES_ADV_CPU].flat && o->per_res[ES_ADV_CPU].r < 0,
				    "db's CPU moved, against the change");
	}
	for (i = 0; _es_h.res->failed && i < 3; i++)
		TEST_LOG("block %u: resource %d distance %.4f r %.4f", s[i].block, s[i].res,
			 s[i].distance, s[i].r);
}

TEST(rank_names_the_throttled_block)
{
	struct es_adv_block *b = calloc(3, sizeof(*b));
	struct es_adv_ring *perf = calloc(1, sizeof(*perf));
	struct es_adv_score s[3];
	double change;
	unsigned int i;

	ASSERT_TRUE(b && perf, "calloc");
	fill(b, perf, false);
	ASSERT_EQ(es_adv_rank(b, 3, perf, ES_ADV_PERF_LATENCY, 10, 0.5, &change, s), 0, "ranked");
	EXPECT_TRUE(change > 10, "latency grew many times over");
	expect_logic_first(s);
	EXPECT_TRUE(!s[0].per_res[ES_ADV_THROTTLED].level,
		    "a latency that ramps is compared by its change per interval");
	fill(b, perf, true);
	ASSERT_EQ(es_adv_rank(b, 3, perf, ES_ADV_PERF_THROUGHPUT, 10, 0.1, &change, s), 0,
		  "throughput falling ranks too");
	expect_logic_first(s);
	/*
	 * A client that waits for each answer (ab -k): when logic reaches its
	 * quota the latency steps up and stays, one spike in its change per
	 * interval; the step of logic's throttled share matches the level.
	 */
	memset(perf, 0, sizeof(*perf));
	for (i = 0; i < 10; i++)
		es_adv_ring_push(perf, (i >= 5 ? 17000 : 3500) + (i % 3) * 200.0);
	ASSERT_EQ(es_adv_rank(b, 3, perf, ES_ADV_PERF_LATENCY, 10, 0.5, &change, s), 0,
		  "a latency that steps ranks");
	expect_logic_first(s);
	EXPECT_TRUE(s[0].per_res[ES_ADV_THROTTLED].level, "against the latency's level");
	free(b);
	free(perf);
}

/*
 * db reclaims under a memory limit from the sixth sample on: its refaults
 * step up (with noise) and so do its CPU (faulting pages back in) and its
 * wait for the disk (reading them), cleaner steps, so nearer the change.
 * The limit is named, not the use nor the I/O it causes.
 */
/* fill()'s logic made steady: its CPU unchanged, never throttled. */
static void steady_logic(struct es_adv_block *b)
{
	unsigned int i;

	memset(&b[1].res[ES_ADV_CPU], 0, sizeof(b[1].res[ES_ADV_CPU]));
	memset(&b[1].res[ES_ADV_THROTTLED], 0, sizeof(b[1].res[ES_ADV_THROTTLED]));
	for (i = 0; i < 10; i++) {
		es_adv_ring_push(&b[1].res[ES_ADV_CPU], 0.15);
		es_adv_ring_push(&b[1].res[ES_ADV_THROTTLED], 0);
	}
}

static void reclaiming_db(struct es_adv_block *b)
{
	unsigned int i;

	steady_logic(b);
	memset(&b[2].res[ES_ADV_CPU], 0, sizeof(b[2].res[ES_ADV_CPU]));
	for (i = 0; i < 10; i++) {
		bool late = i >= 5;

		es_adv_ring_push(&b[2].res[ES_ADV_CPU], late ? 0.30 : 0.15);
		es_adv_ring_push(&b[2].res[ES_ADV_RECLAIM], late ? 3000 + (i % 2) * 1500 : 0);
		es_adv_ring_push(&b[2].res[ES_ADV_IOWAIT], late ? 0.9 : 0.05);
	}
}

TEST(rank_names_reclaim_over_cpu)
{
	struct {
		struct es_adv_block	b[3];
		struct es_adv_ring	perf;
		struct es_adv_score	s[3];
		double			change;
	} *t = calloc(1, sizeof(*t));

	ASSERT_TRUE(t != NULL, "calloc");
	fill(t->b, &t->perf, false);
	reclaiming_db(t->b);
	ASSERT_EQ(es_adv_rank(t->b, 3, &t->perf, ES_ADV_PERF_LATENCY, 10, 0.5, &t->change, t->s),
		  0, "ranked");
	EXPECT_EQ(t->s[0].block, 2, "db first");
	EXPECT_TRUE(t->s[0].per_res[ES_ADV_CPU].distance <
		    t->s[0].per_res[ES_ADV_RECLAIM].distance, "its CPU is the nearer series");
	EXPECT_TRUE(t->s[0].per_res[ES_ADV_IOWAIT].distance <
		    t->s[0].per_res[ES_ADV_RECLAIM].distance, "and so is its I/O wait");
	EXPECT_EQ(t->s[0].res, ES_ADV_RECLAIM, "yet its reclaim is named");
	EXPECT_TRUE(NEAR(t->s[0].distance, t->s[0].per_res[ES_ADV_RECLAIM].distance),
		    "with its distance");
	EXPECT_TRUE(t->s[0].r >= ES_ADV_MIN_R, "and an r that can scale out");
	free(t);
}

TEST(rank_nothing_without_worsening)
{
	struct es_adv_block *b = calloc(3, sizeof(*b));
	struct es_adv_ring *perf = calloc(1, sizeof(*perf));
	struct es_adv_score s[3];
	double change;
	unsigned int i;

	ASSERT_TRUE(b && perf, "calloc");
	fill(b, perf, false);
	EXPECT_EQ(es_adv_rank(b, 3, perf, ES_ADV_PERF_THROUGHPUT, 10, 0.1, &change, s), -EAGAIN,
		  "throughput rising is no worsening");
	EXPECT_EQ(es_adv_rank(b, 3, perf, ES_ADV_PERF_LATENCY, 11, 0.5, &change, s), -EAGAIN,
		  "fewer samples held than the window");
	memset(perf, 0, sizeof(*perf));
	for (i = 0; i < 10; i++)
		es_adv_ring_push(perf, 300 + (i == 8 ? 5000 : 0) + (i % 3) * 20);
	EXPECT_EQ(es_adv_rank(b, 3, perf, ES_ADV_PERF_LATENCY, 10, 0.5, &change, s), -EAGAIN,
		  "one slow interval (in the last third) in a steady window");
	EXPECT_TRUE(change < 0.5, "reported below the threshold");
	free(b);
	free(perf);
}

/* The rings and the answer of one advice, on the heap (they are large). */
struct fixture {
	struct es_adv_block	*b;
	struct es_adv_ring	*perf;
	struct es_adv_result	*res;
};

static bool fixture_new(struct fixture *f, unsigned int nblocks)
{
	f->b = calloc(nblocks, sizeof(*f->b));
	f->perf = calloc(1, sizeof(*f->perf));
	f->res = calloc(1, sizeof(*f->res));
	return f->b && f->perf && f->res;
}

static void fixture_free(struct fixture *f)
{
	free(f->b);
	free(f->perf);
	free(f->res);
}

TEST(advise_scales_out_the_throttled_block)
{
	struct fixture f;
	struct es_adv_block *b;
	struct es_adv_ring *perf;
	struct es_adv_result *res;
	struct es_adv_perf_desc d = {
		.kind = ES_ADV_PERF_LATENCY, .name = "p99 latency", .interval_ms = 1000,
		.samples = 10, .min_change = 0.5,
	};
	json_t *j;

	ASSERT_TRUE(fixture_new(&f, 3), "calloc");
	b = f.b;
	perf = f.perf;
	res = f.res;
	fill(b, perf, false);
	es_adv_advise(b, 3, perf, &d, res);
	ASSERT_TRUE(res->ranked, "ranked");
	EXPECT_EQ(res->scores[0].block, 1, "logic first");
	EXPECT_EQ(res->reco[0].action, ES_ADV_SCALE_OUT, "scale logic out");
	EXPECT_EQ(res->reco[1].action, ES_ADV_HOLD, "hold the second");
	EXPECT_EQ(res->reco[2].action, ES_ADV_HOLD, "hold the third");
	/* r > 0.95 and the others at distance 1: confidence r * (1 - D1) */
	EXPECT_TRUE(res->reco[0].confidence > 0.85 && res->reco[0].confidence <= 1,
		    "confident when the runner-up tracks nothing");
	EXPECT_TRUE(!strncmp(res->reco[0].reason, "logic: CPU throttled 43 % of the window",
			     39), res->reco[0].reason);
	EXPECT_TRUE(strstr(res->reco[0].reason, "tracks the rise of the p99 latency") != NULL,
		    res->reco[0].reason);
	EXPECT_TRUE(strstr(res->reco[1].reason, "none of its resources moved") != NULL,
		    res->reco[1].reason);
	j = es_adv_result_json(b, &d, res);
	EXPECT_TRUE(!strcmp(json_string_value(json_object_get(j, "scale_out")) ?: "", "logic"),
		    "JSON scale_out");
	EXPECT_EQ(json_array_size(json_object_get(j, "ranking")), 3, "JSON ranking");
	json_decref(j);

	/* The same rings read as a throughput: rising is no worsening, nothing to scale. */
	d.kind = ES_ADV_PERF_THROUGHPUT;
	es_adv_advise(b, 3, perf, &d, res);
	EXPECT_TRUE(!res->ranked, "not ranked");
	EXPECT_EQ(res->reco[0].action, ES_ADV_HOLD, "hold");
	j = es_adv_result_json(b, &d, res);
	EXPECT_TRUE(json_is_null(json_object_get(j, "scale_out")), "JSON: nothing to scale out");
	EXPECT_EQ(json_array_size(json_object_get(j, "ranking")), 0, "JSON: no ranking");
	json_decref(j);
	fixture_free(&f);
}

/*
 * db's link is rate-limited from the sixth sample on (logic steady): its
 * tbf holds packets back, queues and runs at its rate, while the bytes it
 * sends fall to that rate. The link's limit is named, not the falling use.
 */
static void rate_limited_db(struct es_adv_block *b)
{
	unsigned int i;

	steady_logic(b);
	strcpy(b[2].link, "veth-db");
	for (i = 0; i < 10; i++) {
		bool late = i >= 5;

		es_adv_ring_push(&b[2].res[ES_ADV_NET], late ? 1e6 : 1.5e6);
		es_adv_ring_push(&b[2].res[ES_ADV_NET_LIMITED], late ? 800 + (i % 2) * 100 : 0);
		es_adv_ring_push(&b[2].res[ES_ADV_NET_DROPS], late ? (i % 2) * 20 : 0);
		es_adv_ring_push(&b[2].res[ES_ADV_NET_BACKLOG], late ? 16000 - (i % 2) * 4000 : 0);
		es_adv_ring_push(&b[2].res[ES_ADV_NET_RATE_USED], late ? 0.99 : 0.012);
	}
}

TEST(advise_names_the_rate_limited_link)
{
	struct fixture f;
	struct es_adv_perf_desc d = {
		.kind = ES_ADV_PERF_LATENCY, .name = "p99 latency", .interval_ms = 1000,
		.samples = 10, .min_change = 0.5,
	};
	const struct es_adv_score *s0;
#define WANT	"db: network: link veth-db rate-limited, overlimits 430 a second"

	ASSERT_TRUE(fixture_new(&f, 3), "calloc");
	fill(f.b, f.perf, false);
	rate_limited_db(f.b);
	es_adv_advise(f.b, 3, f.perf, &d, f.res);
	s0 = &f.res->scores[0];
	ASSERT_TRUE(f.res->ranked, "ranked");
	EXPECT_EQ(s0->block, 2, "db first");
	EXPECT_EQ(s0->res, ES_ADV_NET_RATE_USED, "by its link running at its rate");
	EXPECT_TRUE(s0->per_res[ES_ADV_NET].r < 0, "the bytes it sends fell against the change");
	EXPECT_EQ(f.res->reco[0].action, ES_ADV_SCALE_OUT, "scale db out");
	EXPECT_TRUE(!strncmp(f.res->reco[0].reason, WANT, strlen(WANT)), f.res->reco[0].reason);
	EXPECT_TRUE(strstr(f.res->reco[0].reason, "50 % of its rate") != NULL,
		    f.res->reco[0].reason);
	fixture_free(&f);
#undef WANT
}

/* The service worsens but only one block moves with it, loosely: no evidence, no scaling. */
static void scaled(struct es_adv_block *b, unsigned int r1, double p1, unsigned int r2, double p2)
{
	b->scaled.n = 2;
	b->scaled.step[0] = (struct es_adv_scale_step){ r1, p1, 0 };
	b->scaled.step[1] = (struct es_adv_scale_step){ r2, p2, 0 };
}

/*
 * Paper E's trap on the series of fill() (logic throttled): a scale-out of
 * logic that helped leaves the advice alone; one that did not holds logic
 * and names what its replicas share, the next block that tracks the
 * change, or none.
 */
TEST(advise_sees_replicas_stop_helping)
{
	struct es_adv_perf_desc d = {
		.kind = ES_ADV_PERF_LATENCY, .name = "p99 latency", .interval_ms = 1000,
		.samples = 10, .min_change = 0.5,
	};
	struct fixture f;
	unsigned int i;
	json_t *j, *t;

	ASSERT_TRUE(fixture_new(&f, 3), "calloc");
	fill(f.b, f.perf, false);
	scaled(&f.b[1], 2, 900, 3, 500);
	es_adv_advise(f.b, 3, f.perf, &d, f.res);
	EXPECT_EQ(f.res->reco[0].action, ES_ADV_SCALE_OUT, "2 to 3 helped: scale logic out");
	EXPECT_TRUE(!f.res->trap, "no trap");

	scaled(&f.b[1], 2, 900, 3, 950);
	es_adv_advise(f.b, 3, f.perf, &d, f.res);
	EXPECT_EQ(f.res->scores[0].block, 1, "logic still tracks the change best");
	EXPECT_EQ(f.res->reco[0].action, ES_ADV_HOLD, "but is not scaled again");
	EXPECT_TRUE(f.res->trap && f.res->dependency == -1, "trap, no other block tracks");
	EXPECT_TRUE(strstr(f.res->reco[0].reason, "logic: adding replicas stopped helping (2 to 3 "
			   "replicas: performance 900 to 950, -6 %)") != NULL, f.res->reco[0].reason);
	EXPECT_TRUE(strstr(f.res->reco[0].reason, "not among these blocks") != NULL,
		    f.res->reco[0].reason);
	j = es_adv_result_json(f.b, &d, f.res);
	t = json_object_get(j, "trap");
	EXPECT_TRUE(json_is_null(json_object_get(j, "scale_out")), "JSON: nothing scaled out");
	EXPECT_TRUE(!strcmp(json_string_value(json_object_get(t, "block")) ?: "", "logic") &&
		    json_integer_value(json_object_get(t, "replicas")) == 3 &&
		    json_is_null(json_object_get(t, "dependency")), "JSON trap");
	json_decref(j);

	/* db's throttling steps up too, less cleanly: what logic's replicas share. */
	memset(&f.b[2].res[ES_ADV_THROTTLED], 0, sizeof(f.b[2].res[ES_ADV_THROTTLED]));
	for (i = 0; i < 10; i++)
		es_adv_ring_push(&f.b[2].res[ES_ADV_THROTTLED], i >= 5 ? 0.3 + (i % 2) * 0.3 : 0);
	es_adv_advise(f.b, 3, f.perf, &d, f.res);
	EXPECT_EQ(f.res->scores[0].block, 1, "logic first");
	EXPECT_TRUE(f.res->trap && f.res->dependency == 1 && f.res->scores[1].block == 2,
		    "db is the dependency");
	EXPECT_TRUE(strstr(f.res->reco[0].reason, "look at db, which its replicas share") != NULL,
		    f.res->reco[0].reason);
	fixture_free(&f);
}

/*
 * A block scaled out last that no longer ranks first (what its replicas
 * share binds now, and tracks the change better): its hold says that its
 * replicas stopped helping, before the ranking's words; a block with no
 * history keeps its words.
 */
TEST(advise_notes_a_scale_out_that_did_not_help)
{
	struct es_adv_perf_desc d = {
		.kind = ES_ADV_PERF_LATENCY, .name = "p99 latency", .interval_ms = 1000,
		.samples = 10, .min_change = 0.5,
	};
	static const char note[] = "adding replicas stopped helping (1 to 2 replicas: "
				   "performance 900 to 950, -6 %); ";
	struct fixture f;
	unsigned int i, noted = 0;

	ASSERT_TRUE(fixture_new(&f, 3), "calloc");
	fill(f.b, f.perf, false);
	scaled(&f.b[2], 1, 900, 2, 950);
	es_adv_advise(f.b, 3, f.perf, &d, f.res);
	ASSERT_TRUE(f.res->ranked && f.res->scores[0].block == 1, "logic first");
	EXPECT_EQ(f.res->reco[0].action, ES_ADV_SCALE_OUT, "logic scaled out");
	EXPECT_TRUE(!f.res->trap, "no trap: logic's replicas were not tried");
	for (i = 1; i < f.res->nblocks; i++) {
		const char *why = f.res->reco[i].reason;
		bool has = !strncmp(why, note, strlen(note));

		EXPECT_EQ(f.res->reco[i].action, ES_ADV_HOLD, "the others held");
		EXPECT_TRUE(has == (f.res->scores[i].block == 2), why);
		noted += has;
	}
	EXPECT_EQ(noted, 1, "db's hold, and only db's, says its replicas stopped helping");
	fixture_free(&f);
}

TEST(stopped_helping_either_way)
{
	struct es_adv_scaling h = { 3, { { 1, 1000, 0 }, { 2, 1200, 0 }, { 3, 1100, 0 } } };
	double gain = 0;

	EXPECT_TRUE(es_adv_stopped_helping(&h, ES_ADV_PERF_THROUGHPUT, &gain) && gain < 0,
		    "throughput fell from 2 to 3 replicas");
	h.n = 2;
	EXPECT_TRUE(!es_adv_stopped_helping(&h, ES_ADV_PERF_THROUGHPUT, &gain),
		    "1 to 2 raised it by 20 %");
	h.step[1].perf = 1040;
	EXPECT_TRUE(es_adv_stopped_helping(&h, ES_ADV_PERF_THROUGHPUT, &gain),
		    "4 % is below the 5 % a replica must bring");
	h.step[1] = (struct es_adv_scale_step){ 1, 500, 0 };
	EXPECT_TRUE(!es_adv_stopped_helping(&h, ES_ADV_PERF_THROUGHPUT, &gain),
		    "no replicas added: nothing to judge");
	h.n = 1;
	EXPECT_TRUE(!es_adv_stopped_helping(&h, ES_ADV_PERF_LATENCY, &gain), "one step: none");
}

/*
 * The block's own work beside the service's latency: a queue built before
 * the scale-out keeps the latency rising while the added replica already
 * does its share (the agent's open-loop run: 276 to 830 ms, the block's
 * bytes up by a half); a replica that adds no work did not help, whatever
 * the latency did; a step that does not know its work leaves the latency
 * to decide.
 */
TEST(stopped_helping_counts_the_blocks_work)
{
	struct es_adv_scaling h = { 2, { { 1, 276000, 1000000 }, { 2, 830000, 1500000 } } };
	double gain = 0;

	EXPECT_TRUE(!es_adv_stopped_helping(&h, ES_ADV_PERF_LATENCY, &gain) && gain < 0,
		    "latency up, the block's work up by half: the replica helped");
	h.step[1].work = 1020000;
	EXPECT_TRUE(es_adv_stopped_helping(&h, ES_ADV_PERF_LATENCY, &gain),
		    "latency up, the work up by 2 %: stopped helping");
	h.step[1].work = 700000;
	EXPECT_TRUE(es_adv_stopped_helping(&h, ES_ADV_PERF_LATENCY, &gain),
		    "the work fell (contention): stopped helping");
	h.step[1].perf = 200000;
	EXPECT_TRUE(!es_adv_stopped_helping(&h, ES_ADV_PERF_LATENCY, &gain),
		    "the latency fell by 28 %: it helped, whatever the work");
	h.step[1] = (struct es_adv_scale_step){ 2, 830000, 0 };
	EXPECT_TRUE(es_adv_stopped_helping(&h, ES_ADV_PERF_LATENCY, &gain),
		    "the work not known: the latency decides");
}

TEST(advise_holds_without_evidence)
{
	struct es_adv_perf_desc d = { .kind = ES_ADV_PERF_LATENCY, .samples = 12, .min_change = 0.5 };
	static const double cpu[12] = { 0.2, 0.5, 0.2, 0.5, 0.2, 0.5, 0.2, 0.6, 0.2, 0.5, 0.3, 0.5 };
	struct fixture f;
	struct es_adv_block *b;
	unsigned int i, r;

	ASSERT_TRUE(fixture_new(&f, 2), "calloc");
	b = f.b;
	strcpy(b[0].name, "a");
	strcpy(b[1].name, "b");
	for (i = 0; i < 12; i++) {
		es_adv_ring_push(f.perf, i < 6 ? 100 : 100 + 400.0 * (i - 5));
		for (r = 0; r < ES_ADV_NRES; r++) {
			es_adv_ring_push(&b[0].res[r], r == ES_ADV_CPU ? cpu[i] : 0);
			es_adv_ring_push(&b[1].res[r], r == ES_ADV_CPU ? 0.3 : 0);
		}
	}
	es_adv_advise(b, 2, f.perf, &d, f.res);
	ASSERT_TRUE(f.res->ranked, "the service got worse");
	TEST_LOG("a: resource %d r %.3f", f.res->scores[0].res, f.res->scores[0].r);
	EXPECT_TRUE(f.res->scores[0].r < ES_ADV_MIN_R, "a's CPU only flickers with it");
	EXPECT_EQ(f.res->reco[0].action, ES_ADV_HOLD, "no block is scaled out");
	EXPECT_TRUE(strstr(f.res->reco[0].reason, "no block's resource tracks") != NULL,
		    f.res->reco[0].reason);
	fixture_free(&f);
}

/*
 * Scale-in over a steady window of 10 samples: logic's 3 replicas peak at
 * 0.1 of a 1-core limit (2 would use 15 %), db's 2 at 0.3 (1 would use
 * 60 %, above the target), cache's 2 idle but throttled, queue's count
 * changed within the window, front has one replica, worker no limit.
 */
static void steady(struct es_adv_block *b, struct es_adv_ring *perf)
{
	static const char *const names[] = { "front", "logic", "db", "cache", "queue", "worker" };
	static const unsigned int reps[] = { 1, 3, 2, 2, 2, 2 };
	static const double cpu[] = { 0.2, 0.1, 0.3, 0.01, 0.01, 0.01 };
	unsigned int i, k;
	int r;

	memset(b, 0, 6 * sizeof(*b));
	memset(perf, 0, sizeof(*perf));
	for (k = 0; k < 6; k++) {
		strcpy(b[k].name, names[k]);
		b[k].replicas = reps[k];
		b[k].replicas_steady = k != 4;
		b[k].last.cpu_limit = k == 5 ? 0 : 1;
	}
	for (i = 0; i < 10; i++) {
		es_adv_ring_push(perf, 300 + (i % 3) * 5);
		for (k = 0; k < 6; k++)
			for (r = 0; r < ES_ADV_NRES; r++)
				es_adv_ring_push(&b[k].res[r], r == ES_ADV_CPU ?
						 cpu[k] * (i == 6 ? 1 : 0.8) :
						 r == ES_ADV_THROTTLED && k == 3 ? 0.05 : 0);
	}
}

/* The judgement of block k in res->in; NULL when it was not judged. */
static const struct es_adv_scale_in *in_of(const struct es_adv_result *res, unsigned int k)
{
	unsigned int i;

	for (i = 0; i < res->n_in; i++)
		if (res->in[i].block == k)
			return &res->in[i];
	return NULL;
}

TEST(advise_scales_in_a_block_with_headroom)
{
	struct es_adv_perf_desc d = {
		.kind = ES_ADV_PERF_LATENCY, .name = "p99 latency", .interval_ms = 1000,
		.samples = 10, .min_change = 0.5,
	};
	const struct es_adv_scale_in *in;
	struct fixture f;
	json_t *j, *e;

	ASSERT_TRUE(fixture_new(&f, 6), "calloc");
	steady(f.b, f.perf);
	es_adv_advise(f.b, 6, f.perf, &d, f.res);
	EXPECT_TRUE(!f.res->ranked, "steady: nothing to scale out");
	EXPECT_EQ(f.res->n_in, 5, "the blocks of 2 or more replicas are judged");
	EXPECT_TRUE(in_of(f.res, 0) == NULL, "front's one replica is not");
	in = in_of(f.res, 1);
	ASSERT_TRUE(in != NULL, "logic judged");
	EXPECT_EQ(in->reco.action, ES_ADV_SCALE_IN, in->reco.reason);
	EXPECT_TRUE(NEAR(in->load, 0.15), "its busiest sample over 2 replicas, of its limit");
	EXPECT_TRUE(NEAR(in->reco.confidence, 0.7), "1 - 0.15 / 0.5");
	EXPECT_TRUE(strstr(in->reco.reason, "2 would use 15 % at the busiest") != NULL,
		    in->reco.reason);
	in = in_of(f.res, 2);
	EXPECT_TRUE(in && in->reco.action == ES_ADV_HOLD && NEAR(in->load, 0.6) &&
		    strstr(in->reco.reason, "would use 60 %"), "db: above the target");
	in = in_of(f.res, 3);
	EXPECT_TRUE(in && in->reco.action == ES_ADV_HOLD &&
		    strstr(in->reco.reason, "CPU throttled 5 %"), "cache: throttled, however idle");
	in = in_of(f.res, 4);
	EXPECT_TRUE(in && in->reco.action == ES_ADV_HOLD &&
		    strstr(in->reco.reason, "count changed"), "queue: its count just changed");
	in = in_of(f.res, 5);
	EXPECT_TRUE(in && in->reco.action == ES_ADV_HOLD &&
		    strstr(in->reco.reason, "no CPU limit"), "worker: nothing to judge against");
	j = es_adv_result_json(f.b, &d, f.res);
	e = json_array_get(json_object_get(j, "scale_in"), 0);
	EXPECT_TRUE(!strcmp(json_string_value(json_object_get(e, "block")) ?: "", "logic") &&
		    !strcmp(json_string_value(json_object_get(e, "action")) ?: "", "scale_in") &&
		    json_integer_value(json_object_get(e, "replicas_to")) == 2, "JSON: logic 3 to 2");
	json_decref(j);

	/* A service that got worse scales nothing in, whatever the headroom. */
	fill(f.b, f.perf, false);
	f.b[0].replicas = 2;
	f.b[0].replicas_steady = true;
	f.b[0].last.cpu_limit = 4;
	es_adv_advise(f.b, 3, f.perf, &d, f.res);
	in = in_of(f.res, 0);
	EXPECT_TRUE(f.res->ranked && in && in->reco.action == ES_ADV_HOLD &&
		    strstr(in->reco.reason, "got worse"), "front held: the service got worse");
	fixture_free(&f);
}

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[256], *slash;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = 0;
		mkdir(path, 0755);
		*slash = '/';
	}
	ASSERT_EQ(es_write_file(path, text, strlen(text)), 0, "fixture file");
}

static void cleanup_root(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		TEST_LOG("could not remove %s", root);
}

TEST(cgroup_v1_and_v2_files)
{
	struct es_adv_block *b = calloc(1, sizeof(*b));
	struct es_adv_raw raw;
	char err[256] = "";

	ASSERT_TRUE(b != NULL, "calloc");
	snprintf(root, sizeof(root), "/tmp/es-advisor-XXXXXX");
	ASSERT_TRUE(mkdtemp(root) != NULL, "mkdtemp");
	put("cpuacct/pod/ctr/cpuacct.usage", "3000000000\n");
	put("cpu/pod/ctr/cpu.stat", "nr_periods 10\nnr_throttled 4\nthrottled_time 500000000\n");
	put("memory/pod/ctr/memory.usage_in_bytes", "8388608\n");
	put("blkio/pod/ctr/blkio.throttle.io_service_bytes",
	    "8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\nTotal 12288\n");
	put("memory/pod/ctr/memory.stat", "cache 4096\nworkingset_refault_anon 5\n"
	    "workingset_refault_file 95\npgmajfault 100\ntotal_workingset_refault_file 900\n");
	EXPECT_EQ(es_adv_block_init(b, "logic", "pod/ctr", root, err, sizeof(err)), 0, err);
	EXPECT_TRUE(!b->v2, "v1 without a unified root");
	EXPECT_EQ(es_adv_block_read(b, root, &raw, err, sizeof(err)), 0, err);
	EXPECT_EQ(raw.cpu_ns, 3000000000ull, "cpuacct.usage");
	EXPECT_EQ(raw.throttled_ns, 500000000ull, "throttled_time");
	EXPECT_EQ(raw.memory, 8388608ull, "usage_in_bytes");
	EXPECT_EQ(raw.io_bytes, 12288ull, "blkio Total");
	EXPECT_EQ(raw.refaults, 100ull, "the cgroup's own refaults, not total_*");

	EXPECT_TRUE(NEAR(raw.cpu_limit, 0), "no quota file: no CPU limit");
	EXPECT_EQ(b->psi, ES_ADV_PSI_NONE, "no unified/ tree: no PSI");
	EXPECT_EQ(raw.psi_io_us, 0ull, "and none read");
	/* A hybrid node: the same path under unified/ has the PSI files. */
	put("unified/pod/ctr/cpu.pressure", "some avg10=1.00 avg60=0.50 avg300=0.10 total=700\n"
	    "full avg10=0.00 avg60=0.00 avg300=0.00 total=5\n");
	put("unified/pod/ctr/memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=30\n"
	    "full avg10=0.00 avg60=0.00 avg300=0.00 total=20\n");
	put("unified/pod/ctr/io.pressure", "some avg10=9.05 avg60=1.63 avg300=0.34 "
	    "total=1549040\nfull avg10=9.05 avg60=1.63 avg300=0.34 total=1549040\n");
	EXPECT_EQ(es_adv_block_init(b, "logic", "pod/ctr", root, err, sizeof(err)), 0, err);
	EXPECT_EQ(b->psi, ES_ADV_PSI_HYBRID, "PSI from the hybrid unified/ tree");
	EXPECT_EQ(es_adv_block_read(b, root, &raw, err, sizeof(err)), 0, err);
	EXPECT_TRUE(raw.psi_cpu_us == 700 && raw.psi_memory_us == 30 && raw.psi_io_us == 1549040,
		    "the \"some\" totals, not \"full\"");
	put("cpu/pod/ctr/cpu.cfs_quota_us", "50000\n");
	put("cpu/pod/ctr/cpu.cfs_period_us", "100000\n");
	EXPECT_TRUE(NEAR(es_adv_cpu_limit(b, root), 0.5), "v1 quota over period, in cores");
	put("cpu/pod/ctr/cpu.cfs_quota_us", "-1\n");
	EXPECT_TRUE(NEAR(es_adv_cpu_limit(b, root), 0), "v1 -1: none");

	es_adv_block_push(b, &raw, 1000000000ull);
	EXPECT_EQ(b->res[ES_ADV_CPU].n, 0, "the first read only primes");
	raw.cpu_ns += 500000000;	/* half a core over one second */
	raw.throttled_ns += 250000000;
	raw.io_bytes += 8192;
	raw.refaults += 300;
	raw.psi_io_us += 400000;
	es_adv_block_push(b, &raw, 2000000000ull);
	EXPECT_TRUE(NEAR(b->res[ES_ADV_IO_PRESSURE].v[0], 0.4), "I/O stall share");
	EXPECT_TRUE(NEAR(b->res[ES_ADV_CPU].v[0], 0.5), "CPU in cores");
	EXPECT_TRUE(NEAR(b->res[ES_ADV_THROTTLED].v[0], 0.25), "throttled share");
	EXPECT_TRUE(NEAR(b->res[ES_ADV_IO].v[0], 8192), "I/O bytes a second");
	EXPECT_TRUE(NEAR(b->res[ES_ADV_RECLAIM].v[0], 300), "refaults a second");
	EXPECT_TRUE(NEAR(b->res[ES_ADV_MEMORY].v[0], 8388608), "memory as read");

	put("cgroup.controllers", "cpu io memory pids\n");
	put("pod2/ctr/cpu.stat", "usage_usec 2000\nuser_usec 1500\nsystem_usec 500\n"
	    "nr_periods 3\nnr_throttled 1\nthrottled_usec 700\n");
	put("pod2/ctr/memory.current", "4096\n");
	put("pod2/ctr/memory.stat", "anon 4096\nworkingset_refault_anon 1\n"
	    "workingset_refault_file 2\n");
	put("pod2/ctr/io.stat", "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n"
	    "8:16 rbytes=1 wbytes=2 rios=1 wios=1 dbytes=50 dios=1\n");
	EXPECT_EQ(es_adv_block_init(b, "db", "pod2/ctr", root, err, sizeof(err)), 0, err);
	EXPECT_TRUE(b->v2, "v2 where the unified root holds the cgroup");
	EXPECT_EQ(b->psi, ES_ADV_PSI_NONE, "a v2 cgroup without PSI files (CONFIG_PSI off)");
	put("pod2/ctr/io.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=42\n");
	put("pod2/ctr/cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=7\n");
	EXPECT_EQ(es_adv_block_init(b, "db", "pod2/ctr", root, err, sizeof(err)), 0, err);
	EXPECT_EQ(b->psi, ES_ADV_PSI_V2, "v2's own PSI files");
	EXPECT_EQ(es_adv_block_read(b, root, &raw, err, sizeof(err)), 0, err);
	EXPECT_EQ(raw.cpu_ns, 2000000ull, "usage_usec");
	EXPECT_EQ(raw.throttled_ns, 700000ull, "throttled_usec");
	EXPECT_EQ(raw.memory, 4096ull, "memory.current");
	EXPECT_EQ(raw.io_bytes, 303ull, "rbytes + wbytes of every device, not dbytes");
	EXPECT_EQ(raw.refaults, 3ull, "v2 memory.stat refaults");
	EXPECT_TRUE(raw.psi_io_us == 42 && raw.psi_cpu_us == 7 && raw.psi_memory_us == 0,
		    "v2 PSI, a missing file read as 0");
	put("pod2/ctr/cpu.max", "25000 100000\n");
	EXPECT_TRUE(NEAR(es_adv_cpu_limit(b, root), 0.25), "v2 cpu.max, in cores");
	put("pod2/ctr/cpu.max", "max 100000\n");
	EXPECT_TRUE(NEAR(es_adv_cpu_limit(b, root), 0), "v2 max: none");

	EXPECT_EQ(es_adv_block_init(b, "x", "pod3", root, err, sizeof(err)), -ENOENT,
		  "a missing cgroup");
	EXPECT_TRUE(strstr(err, "pod3") != NULL, "the message names it");
	cleanup_root();
	free(b);
}

TEST_HARNESS_MAIN
