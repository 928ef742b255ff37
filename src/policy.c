/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "policy.h"
#include "room.h"

#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "duration.h"
#include "xmalloc.h"
#include "buf.h"
#include "file.h"

/* The policy is small; a bigger file is a mistake (or an attack on the parser). */
#define POLICY_MAX_BYTES (1024 * 1024)
/* The schema is four levels deep; deeper nesting is never valid. */
#define POLICY_MAX_DEPTH 32
/* Far more keys than any section has. */
#define POLICY_MAX_KEYS 1000

/* ---- the node tree ---------------------------------------------------
 * libyaml's document loader resolves aliases silently and loses nothing we
 * need, but it hides whether a node carried an anchor and does not detect
 * duplicate keys (DESIGN.md §10). So we build our own small tree from the
 * parser events, keeping every position and every anchor, alias and tag. */

enum node_kind { NODE_SCALAR, NODE_SEQUENCE, NODE_MAPPING, NODE_ALIAS };

struct node {
	enum node_kind kind;
	unsigned line, col;      /* 1-based */
	bool plain;              /* scalar written without quotes or block style */
	char *anchor;            /* &name given on this node, or the alias's name */
	bool tagged;             /* an explicit !tag */
	char *value;             /* scalar text, NUL-terminated */
	size_t len;
	struct node **items;     /* sequence items; mapping keys and values alternating */
	size_t n, cap;
};

struct pending_error {
	unsigned line, col;
	size_t seq;
	char *text;
};

struct loader {
	const char *name;        /* the file as given, for messages */
	char *base_dir;          /* where relative paths start */
	const char *data;
	size_t len;
	struct policy_errors *errs;
	size_t n_errors;         /* including suppressed ones */
	struct pending_error *pending;
	size_t n_pending;
	struct policy *p;
	struct node *root;
};

static void node_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		node_free(n->items[i]);
	free(n->items);
	free(n->value);
	free(n->anchor);
	free(n);
}

static struct node *node_new(enum node_kind kind, yaml_mark_t mark)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->line = (unsigned)mark.line + 1;   /* libyaml marks are 0-based */
	n->col = (unsigned)mark.column + 1;
	return n;
}

static void node_append(struct node *parent, struct node *child)
{
	if (parent->n == parent->cap) {
		parent->cap = parent->cap ? parent->cap * 2 : 8;
		parent->items = xreallocarray(parent->items, parent->cap, sizeof(*parent->items));
	}
	parent->items[parent->n++] = child;
}

/* ---- errors ---------------------------------------------------------- */

/* Errors are collected with their position and sorted before they are
 * shown, so the admin reads them in file order whatever order the checks
 * ran in. Past a bound they are only counted. */
#define POLICY_KEEP_ERRORS 1000

static void add_error(struct loader *l, unsigned line, unsigned col, char *text)
{
	struct pending_error *e;

	l->n_errors++;
	if (l->n_pending >= POLICY_KEEP_ERRORS) {
		free(text);
		return;
	}
	l->pending = xreallocarray(l->pending, l->n_pending + 1, sizeof(*l->pending));
	e = &l->pending[l->n_pending];
	e->line = line;
	e->col = col;
	e->seq = l->n_pending++;
	e->text = text;
}

static void error_at(struct loader *l, unsigned line, unsigned col, const char *path,
		     const char *fmt, ...) SJ_PRINTF(5, 6);
static void error_at(struct loader *l, unsigned line, unsigned col, const char *path,
		     const char *fmt, ...)
{
	va_list ap;
	char *what;

	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	add_error(l, line, col, xasprintf("%s:%u:%u: %s: %s", l->name, line, col, path,
					  what ? what : "invalid"));
	free(what);
}

#define node_error(l, node, path, ...) error_at((l), (node)->line, (node)->col, (path), __VA_ARGS__)

static int compare_errors(const void *a, const void *b)
{
	const struct pending_error *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void errors_push(struct policy_errors *e, char *line)
{
	e->lines = xreallocarray(e->lines, e->n + 1, sizeof(*e->lines));
	e->lines[e->n++] = line;
}

static void errors_finish(struct loader *l)
{
	struct policy_errors *e = l->errs;
	size_t shown = 0;

	if (l->n_pending > 0)
		qsort(l->pending, l->n_pending, sizeof(*l->pending), compare_errors);
	for (size_t i = 0; i < l->n_pending; i++) {
		if (e && shown < POLICY_MAX_ERRORS) {
			errors_push(e, l->pending[i].text);
			shown++;
		} else {
			free(l->pending[i].text);
		}
	}
	free(l->pending);
	l->pending = NULL;
	l->n_pending = 0;
	if (e && l->n_errors > shown)
		errors_push(e, xasprintf("%s: %zu more errors suppressed (only the first %d are shown)",
					 l->name, l->n_errors - shown, POLICY_MAX_ERRORS));
}

/* A value quoted back in a message: short, and without control characters
 * that could forge a second line on a terminal or in the journal. */
static char *quote_value(const char *s, size_t len)
{
	struct buf b = { 0 };
	size_t max = len > 40 ? 40 : len;

	buf_putc(&b, '"');
	for (size_t i = 0; i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			buf_printf(&b, "\\x%02x", c);
		else
			buf_putc(&b, (char)c);
	}
	buf_puts(&b, len > max ? "...\"" : "\"");
	return b.data;
}

/* ---- building the tree from parser events ----------------------------- */

static void offset_to_mark(const struct loader *l, size_t offset, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < offset && i < l->len; i++) {
		if (l->data[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static void syntax_error(struct loader *l, const yaml_parser_t *parser)
{
	unsigned line, col;
	const char *problem = parser->problem ? parser->problem : "cannot parse";

	if (parser->error == YAML_READER_ERROR) {
		offset_to_mark(l, parser->problem_offset, &line, &col);
		error_at(l, line, col, "syntax error", "%s, expected UTF-8 YAML text", problem);
		return;
	}
	line = (unsigned)parser->problem_mark.line + 1;
	col = (unsigned)parser->problem_mark.column + 1;
	if (parser->context)
		error_at(l, line, col, "syntax error", "%s %s (at line %u)", problem, parser->context,
			 (unsigned)parser->context_mark.line + 1);
	else
		error_at(l, line, col, "syntax error", "%s", problem);
}

struct builder {
	struct node *stack[POLICY_MAX_DEPTH];
	size_t depth;
	unsigned documents;
};

static int builder_add(struct loader *l, struct builder *b, struct node *n,
		       const yaml_char_t *anchor, const yaml_char_t *tag, bool container)
{
	if (anchor)
		n->anchor = xstrdup((const char *)anchor);
	n->tagged = tag != NULL;
	if (b->depth == 0) {
		if (l->root) {  /* cannot happen: one root per document */
			node_free(n);
			return -EINVAL;
		}
		l->root = n;
	} else {
		node_append(b->stack[b->depth - 1], n);
	}
	if (!container)
		return 0;
	if (b->depth == POLICY_MAX_DEPTH) {
		node_error(l, n, "syntax error", "nested deeper than %d levels", POLICY_MAX_DEPTH);
		return -EINVAL;
	}
	b->stack[b->depth++] = n;
	return 0;
}

static int builder_event(struct loader *l, struct builder *b, const yaml_event_t *ev)
{
	struct node *n;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->documents > 1) {
			error_at(l, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
				 "(top level)", "a second YAML document, expected exactly one");
			return -EINVAL;
		}
		return 0;
	case YAML_SCALAR_EVENT:
		n = node_new(NODE_SCALAR, ev->start_mark);
		n->len = ev->data.scalar.length;
		n->value = xstrndup((const char *)ev->data.scalar.value, n->len);
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		return builder_add(l, b, n, ev->data.scalar.anchor, ev->data.scalar.tag, false);
	case YAML_ALIAS_EVENT:
		n = node_new(NODE_ALIAS, ev->start_mark);
		return builder_add(l, b, n, ev->data.alias.anchor, NULL, false);
	case YAML_SEQUENCE_START_EVENT:
		n = node_new(NODE_SEQUENCE, ev->start_mark);
		return builder_add(l, b, n, ev->data.sequence_start.anchor,
				   ev->data.sequence_start.tag, true);
	case YAML_MAPPING_START_EVENT:
		n = node_new(NODE_MAPPING, ev->start_mark);
		return builder_add(l, b, n, ev->data.mapping_start.anchor,
				   ev->data.mapping_start.tag, true);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (b->depth > 0)
			b->depth--;
		return 0;
	default:
		return 0;
	}
}

static int tree_build(struct loader *l)
{
	struct builder b = { .depth = 0 };
	yaml_parser_t parser;
	yaml_event_t ev;
	int r = 0;

	if (!yaml_parser_initialize(&parser)) {
		error_at(l, 1, 1, "syntax error", "cannot initialise the YAML parser");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)l->data, l->len);
	for (;;) {
		if (!yaml_parser_parse(&parser, &ev)) {
			syntax_error(l, &parser);
			r = -EINVAL;
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		r = builder_event(l, &b, &ev);
		yaml_event_delete(&ev);
		if (r < 0)
			break;
	}
	yaml_parser_delete(&parser);
	return r;
}

/* ---- scalar types ----------------------------------------------------
 * YAML 1.1 would read yes/no/on/off as booleans and YAML 1.2 would not; a
 * policy that means something different to different readers is a hazard,
 * so only plain true/false are booleans, and a quoted "true" is a string. */

static bool scalar_is(const struct node *n, const char *s)
{
	return n->kind == NODE_SCALAR && strcmp(n->value, s) == 0 && strlen(s) == n->len;
}

static bool node_is_null(const struct node *n)
{
	return n->kind == NODE_SCALAR && n->plain &&
	       (n->len == 0 || scalar_is(n, "~") || scalar_is(n, "null") ||
		scalar_is(n, "Null") || scalar_is(n, "NULL"));
}

static bool node_is_bool(const struct node *n)
{
	return n->kind == NODE_SCALAR && n->plain && (scalar_is(n, "true") || scalar_is(n, "false"));
}

static bool looks_numeric(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (*s < '0' || *s > '9')
		return false;
	while ((*s >= '0' && *s <= '9') || *s == '.')
		s++;
	return *s == '\0';
}

static const char *describe(const struct node *n)
{
	switch (n->kind) {
	case NODE_SEQUENCE:
		return "a list";
	case NODE_MAPPING:
		return "a mapping";
	case NODE_ALIAS:
		return "an alias";
	case NODE_SCALAR:
		break;
	}
	if (!n->plain)
		return "a string";
	if (node_is_null(n))
		return "null";
	if (node_is_bool(n))
		return "a boolean";
	if (looks_numeric(n->value))
		return "a number";
	return "a string";
}

static char *join_key(const char *path, const char *key)
{
	return path[0] ? xasprintf("%s.%s", path, key) : xstrdup(key);
}

/* Anchors, aliases and tags are refused wherever they appear: an alias
 * makes one edit change two places, and a merge or tag can change what a
 * reviewer thinks a key says. Returns false when the node cannot be used. */
static bool node_usable(struct loader *l, const struct node *n, const char *path)
{
	if (n->kind == NODE_ALIAS) {
		node_error(l, n, path, "YAML aliases (*%s) are not allowed, write the value out", n->anchor);
		return false;
	}
	if (n->anchor) {
		node_error(l, n, path, "YAML anchors (&%s) are not allowed, write the value out", n->anchor);
		return false;
	}
	if (n->tagged) {
		node_error(l, n, path, "YAML tags are not allowed, write a plain value");
		return false;
	}
	return true;
}

/* A string value: any scalar but null and a boolean, without NUL or control
 * characters (they would end up in journal fields and CSV cells). */
static const char *get_string(struct loader *l, const struct node *n, const char *path,
			      const char *expected)
{
	if (n->kind != NODE_SCALAR || node_is_null(n) || node_is_bool(n)) {
		node_error(l, n, path, "expected %s, got %s", expected, describe(n));
		return NULL;
	}
	for (size_t i = 0; i < n->len; i++) {
		unsigned char c = (unsigned char)n->value[i];

		if (c < 0x20 || c == 0x7f) {
			node_error(l, n, path, "contains a control character, expected %s", expected);
			return NULL;
		}
	}
	return n->value;
}

static bool get_bool(struct loader *l, const struct node *n, const char *path, bool *out)
{
	if (!node_is_bool(n)) {
		if (n->kind == NODE_SCALAR) {
			char *q = quote_value(n->value, n->len);

			node_error(l, n, path, "expected true or false, got %s %s", describe(n), q);
			free(q);
		} else {
			node_error(l, n, path, "expected true or false, got %s", describe(n));
		}
		return false;
	}
	*out = scalar_is(n, "true");
	return true;
}

/* A non-negative integer in [min, max], plain digits only. */
static bool get_uint(struct loader *l, const struct node *n, const char *path,
		     uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *s;
	bool overflow = false;

	if (n->kind != NODE_SCALAR || !n->plain || !looks_numeric(n->value) ||
	    strchr(n->value, '.') || n->value[0] == '+') {
		node_error(l, n, path, "expected an integer from %llu to %llu, got %s",
			   (unsigned long long)min, (unsigned long long)max, describe(n));
		return false;
	}
	if (n->value[0] == '-') {
		node_error(l, n, path, "must not be negative, expected an integer from %llu to %llu",
			   (unsigned long long)min, (unsigned long long)max);
		return false;
	}
	for (s = n->value; *s; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			overflow = true;
		else
			v = v * 10 + (uint64_t)(*s - '0');
	}
	if (overflow || v < min || v > max) {
		node_error(l, n, path, "out of range, expected an integer from %llu to %llu, got %s",
			   (unsigned long long)min, (unsigned long long)max, n->value);
		return false;
	}
	*out = v;
	return true;
}

/* A fraction in [0, 1] written as a plain decimal ("0.1", "1", "0"). Parsed
 * by hand: strtod() would follow the locale and accept nan, inf and hex. */
static bool get_fraction(struct loader *l, const struct node *n, const char *path, double *out)
{
	const char *s = n->value;
	double v = 0, scale = 1;
	bool digits = false;

	if (n->kind != NODE_SCALAR || !n->plain || !looks_numeric(s) || s[0] == '+') {
		node_error(l, n, path, "expected a number from 0 to 1 (like 0.10), got %s", describe(n));
		return false;
	}
	if (s[0] == '-') {
		node_error(l, n, path, "must not be negative, expected a number from 0 to 1 (like 0.10)");
		return false;
	}
	for (; *s >= '0' && *s <= '9'; s++, digits = true)
		v = v * 10 + (*s - '0');
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, digits = true)
			v += (*s - '0') * (scale /= 10);
	if (!digits || *s != '\0' || v > 1.0) {
		node_error(l, n, path, "out of range, expected a number from 0 to 1 (like 0.10), got %s",
			   n->value);
		return false;
	}
	*out = v;
	return true;
}

static bool get_duration(struct loader *l, const struct node *n, const char *path,
			 uint64_t min, uint64_t max, uint64_t *out)
{
	const char *s = get_string(l, n, path, "a duration like 90d (units s m h d w)");
	char minbuf[32];
	uint64_t v;
	int r;

	if (!s)
		return false;
	r = duration_parse(s, &v);
	if (r == -ERANGE || (r == 0 && v > max)) {
		duration_format(max, minbuf, sizeof(minbuf));
		node_error(l, n, path, "duration too large, expected at most %s", minbuf);
		return false;
	}
	if (r < 0) {
		char *q = quote_value(n->value, n->len);

		node_error(l, n, path,
			   "expected a duration: a whole number and one unit of s, m, h, d, w (like 90d; no months or years), got %s",
			   q);
		free(q);
		return false;
	}
	if (v < min) {
		duration_format(min, minbuf, sizeof(minbuf));
		node_error(l, n, path, "too short, expected at least %s", minbuf);
		return false;
	}
	*out = v;
	return true;
}

/* ---- the schema ------------------------------------------------------ */

enum kind {
	K_SECTION,        /* a mapping walked with sub, same base */
	K_RANGE,          /* {min, max} into a struct count_range at off */
	K_COUNT,          /* int64 inside a count_range */
	K_URL,
	K_CREDENTIAL,
	K_PATH,           /* resolved against the policy's directory */
	K_PATH_OR_EMPTY,  /* the same, or "" to turn the output off */
	K_BOOL,
	K_DURATION,
	K_UINT,
	K_FRACTION,
	K_ROOM_IDS,
	K_ALIASES,
	K_USER_GLOBS,
	K_GLOBS,
	K_GLOB,
	K_TRISTATE,
	K_JOIN_RULES,     /* one join rule or a list, into a bit set */
	K_ROOM_TYPE,      /* a glob, or null for an ordinary room */
	K_ACTION,
	K_ACTIVITY,
	K_TIMES,
	K_RULES,
	K_RULE_NAME,
};

struct key {
	const char *name;
	enum kind kind;
	size_t off;
	bool has_flag;           /* a bool at flag_off says the key was given */
	size_t flag_off;
	uint64_t min, max;
	const struct key *sub;
	bool required;
	const char *what;        /* for "missing" messages */
};

#define PF(field) offsetof(struct policy, field)
#define RF(field) offsetof(struct rule, field)
#define FIELD(base, off, type) ((type *)(void *)((char *)(base) + (off)))

static const struct key homeserver_keys[] = {
	{ .name = "url", .kind = K_URL, .off = PF(homeserver.url), .required = true,
	  .what = "the homeserver's base URL, like http://127.0.0.1:8008" },
	{ .name = "token_credential", .kind = K_CREDENTIAL, .off = PF(homeserver.token_credential) },
	{ .name = "token_file", .kind = K_PATH, .off = PF(homeserver.token_file) },
	{ .name = "timeout", .kind = K_DURATION, .off = PF(homeserver.timeout), .min = 1, .max = DURATION_MAX_TIMEOUT },
	{ .name = "concurrency", .kind = K_UINT, .off = PF(homeserver.concurrency), .min = 1, .max = 32 },
	{ .name = "rate_limit", .kind = K_UINT, .off = PF(homeserver.rate_limit), .min = 0, .max = 100000 },
	{ .name = "page_size", .kind = K_UINT, .off = PF(homeserver.page_size), .min = 1, .max = 1000 },
	{ .name = "tls_verify", .kind = K_BOOL, .off = PF(homeserver.tls_verify) },
	{ .name = "ca_file", .kind = K_PATH, .off = PF(homeserver.ca_file) },
	{ .name = NULL },
};

static const struct key schedule_keys[] = {
	{ .name = "at", .kind = K_TIMES, .off = 0 },
	/* A full scan more often than each minute is never what anyone wants. */
	{ .name = "every", .kind = K_DURATION, .off = PF(schedule.every), .min = 1, .max = DURATION_MAX_EVERY },
	{ .name = "randomized_delay", .kind = K_DURATION, .off = PF(schedule.randomized_delay), .max = DURATION_MAX_DELAY },
	{ .name = "run_at_start", .kind = K_BOOL, .off = PF(schedule.run_at_start) },
	{ .name = NULL },
};

static const struct key protect_keys[] = {
	{ .name = "rooms", .kind = K_ROOM_IDS, .off = PF(protect.rooms) },
	{ .name = "aliases", .kind = K_ALIASES, .off = PF(protect.aliases) },
	{ .name = "names", .kind = K_GLOBS, .off = PF(protect.names) },
	{ .name = "creators", .kind = K_USER_GLOBS, .off = PF(protect.creators) },
	{ .name = "public", .kind = K_BOOL, .off = PF(protect.is_public) },
	{ .name = "spaces", .kind = K_BOOL, .off = PF(protect.spaces) },
	{ .name = NULL },
};

static const struct key range_keys[] = {
	{ .name = "min", .kind = K_COUNT, .off = offsetof(struct count_range, min), .max = 1000000000 },
	{ .name = "max", .kind = K_COUNT, .off = offsetof(struct count_range, max), .max = 1000000000 },
	{ .name = NULL },
};

static const struct key match_keys[] = {
	{ .name = "joined_members", .kind = K_RANGE, .off = RF(joined_members) },
	{ .name = "joined_local_members", .kind = K_RANGE, .off = RF(joined_local_members) },
	{ .name = "inactive_for", .kind = K_DURATION, .off = RF(inactive_for), .max = DURATION_MAX_AGE, .has_flag = true, .flag_off = RF(has_inactive_for) },
	{ .name = "older_than", .kind = K_DURATION, .off = RF(older_than), .max = DURATION_MAX_AGE, .has_flag = true, .flag_off = RF(has_older_than) },
	{ .name = "public", .kind = K_TRISTATE, .off = RF(is_public) },
	{ .name = "encrypted", .kind = K_TRISTATE, .off = RF(is_encrypted) },
	{ .name = "name", .kind = K_GLOB, .off = RF(name_glob) },
	{ .name = "alias", .kind = K_GLOB, .off = RF(alias_glob) },
	{ .name = "creator", .kind = K_GLOB, .off = RF(creator_glob) },
	{ .name = "join_rule", .kind = K_JOIN_RULES, .off = RF(join_rules) },
	{ .name = "room_type", .kind = K_ROOM_TYPE, .off = RF(room_type_glob), .has_flag = true, .flag_off = RF(has_room_type) },
	{ .name = "state_events", .kind = K_RANGE, .off = RF(state_events) },
	{ .name = "room_version", .kind = K_GLOB, .off = RF(version_glob) },
	{ .name = "federatable", .kind = K_TRISTATE, .off = RF(is_federatable) },
	{ .name = NULL },
};

static const struct key rule_keys[] = {
	{ .name = "name", .kind = K_RULE_NAME, .off = RF(name), .required = true,
	  .what = "a rule name of letters, digits, '-', '_' or '.'" },
	{ .name = "action", .kind = K_ACTION, .off = RF(action), .required = true, .what = "record or delete" },
	{ .name = "match", .kind = K_SECTION, .off = 0, .sub = match_keys, .required = true,
	  .what = "a mapping of conditions" },
	{ .name = NULL },
};

static const struct key delete_keys[] = {
	{ .name = "purge", .kind = K_BOOL, .off = PF(delete.purge) },
	{ .name = "block", .kind = K_BOOL, .off = PF(delete.block) },
	{ .name = "force_purge", .kind = K_BOOL, .off = PF(delete.force_purge) },
	{ .name = "max_per_run", .kind = K_UINT, .off = PF(delete.max_per_run), .min = 0, .max = 1000000 },
	{ .name = "max_fraction", .kind = K_FRACTION, .off = PF(delete.max_fraction) },
	{ .name = "grace_period", .kind = K_DURATION, .off = PF(delete.grace_period), .max = DURATION_MAX_AGE },
	/* Synapse runs at most 5 delete tasks at a time. */
	{ .name = "concurrency", .kind = K_UINT, .off = PF(delete.concurrency), .min = 1, .max = 5 },
	{ .name = "timeout", .kind = K_DURATION, .off = PF(delete.timeout), .min = 1, .max = DURATION_MAX_DELETE },
	{ .name = "max_state_events", .kind = K_UINT, .off = PF(delete.max_state_events), .min = 0, .max = 1000000000,
	  .has_flag = true, .flag_off = PF(delete.has_max_state_events) },
	{ .name = NULL },
};

static const struct key records_keys[] = {
	{ .name = "csv", .kind = K_PATH_OR_EMPTY, .off = PF(records.csv) },
	{ .name = "jsonl", .kind = K_PATH_OR_EMPTY, .off = PF(records.jsonl) },
	{ .name = "all_rooms", .kind = K_BOOL, .off = PF(records.all_rooms) },
	{ .name = NULL },
};

static const struct key top_keys[] = {
	{ .name = "homeserver", .kind = K_SECTION, .off = 0, .sub = homeserver_keys, .required = true,
	  .what = "a mapping with at least url and token_file or token_credential" },
	{ .name = "schedule", .kind = K_SECTION, .off = 0, .sub = schedule_keys },
	{ .name = "dry_run", .kind = K_BOOL, .off = PF(dry_run) },
	{ .name = "protect", .kind = K_SECTION, .off = 0, .sub = protect_keys },
	{ .name = "rules", .kind = K_RULES, .off = 0 },
	{ .name = "activity", .kind = K_ACTIVITY, .off = PF(activity) },
	{ .name = "delete", .kind = K_SECTION, .off = 0, .sub = delete_keys },
	{ .name = "records", .kind = K_SECTION, .off = 0, .sub = records_keys },
	{ .name = "state_file", .kind = K_PATH, .off = PF(state_file) },
	{ .name = "metrics_file", .kind = K_PATH_OR_EMPTY, .off = PF(metrics_file) },
	{ .name = NULL },
};

static const struct node *map_get(const struct node *map, const char *key)
{
	if (!map || map->kind != NODE_MAPPING)
		return NULL;
	for (size_t i = 0; i + 1 < map->n; i += 2)
		if (scalar_is(map->items[i], key))
			return map->items[i + 1];
	return NULL;
}

/* The key node of an entry, for messages about a whole section. */
static const struct node *map_key(const struct node *map, const char *key)
{
	if (!map || map->kind != NODE_MAPPING)
		return NULL;
	for (size_t i = 0; i + 1 < map->n; i += 2)
		if (scalar_is(map->items[i], key))
			return map->items[i];
	return NULL;
}

static char *key_list(const struct key *keys)
{
	struct buf b = { 0 };

	for (const struct key *k = keys; k->name; k++)
		buf_printf(&b, "%s%s", k == keys ? "" : ", ", k->name);
	return b.data;
}

static void set_string(char **field, char *value)
{
	free(*field);
	*field = value;
}

/* ---- values ---------------------------------------------------------- */

static void walk_map(struct loader *l, const struct node *map, const char *path,
		     const struct key *keys, void *base);

static char *resolve_path(const struct loader *l, const char *s)
{
	if (s[0] == '/' || !l->base_dir)
		return xstrdup(s);
	return xasprintf("%s%s%s", l->base_dir,
			 l->base_dir[strlen(l->base_dir) - 1] == '/' ? "" : "/", s);
}

static void value_path(struct loader *l, const struct node *v, const char *path,
		       char **field, bool empty_ok)
{
	const char *s = get_string(l, v, path, "a file path");

	if (!s)
		return;
	if (s[0] == '\0' && !empty_ok) {
		node_error(l, v, path, "empty, expected a file path");
		return;
	}
	/* "" turns an output off (records.csv: "", metrics_file: ""). */
	set_string(field, s[0] ? resolve_path(l, s) : xstrdup(""));
}

static void value_url(struct loader *l, const struct node *v, const char *path, char **field)
{
	const char *s = get_string(l, v, path, "an http:// or https:// URL");
	size_t skip, len;

	if (!s)
		return;
	skip = strncasecmp(s, "http://", 7) == 0 ? 7 : strncasecmp(s, "https://", 8) == 0 ? 8 : 0;
	if (skip == 0 || s[skip] == '\0' || s[skip] == '/') {
		char *q = quote_value(v->value, v->len);

		node_error(l, v, path, "expected an http:// or https:// URL with a host, got %s", q);
		free(q);
		return;
	}
	if (strpbrk(s, " ?#")) {
		node_error(l, v, path, "expected a base URL without spaces, query or fragment");
		return;
	}
	/* Stored without trailing slashes: callers append "/_synapse/...". */
	len = strlen(s);
	while (len > skip && s[len - 1] == '/')
		len--;
	set_string(field, xstrndup(s, len));
}

/* A systemd credential name: one file name inside $CREDENTIALS_DIRECTORY. */
static void value_credential(struct loader *l, const struct node *v, const char *path, char **field)
{
	const char *s = get_string(l, v, path, "a credential name");

	if (!s)
		return;
	if (!s[0] || strchr(s, '/') || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
		node_error(l, v, path, "expected a credential name (a file name without '/'), as in LoadCredential=NAME:PATH");
		return;
	}
	set_string(field, xstrdup(s));
}

/* Rule names appear in console lines ("rule=NAME"), CSV cells and journal
 * fields, and --apply finds rules by them: keep them to one word. */
static void value_rule_name(struct loader *l, const struct node *v, const char *path, char **field)
{
	const char *s = get_string(l, v, path, "a rule name");
	size_t len;

	if (!s)
		return;
	len = strlen(s);
	if (len == 0 || len > 64 || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != len) {
		char *q = quote_value(v->value, v->len);

		node_error(l, v, path, "expected a rule name of 1 to 64 letters, digits, '-', '_' or '.', got %s", q);
		free(q);
		return;
	}
	set_string(field, xstrdup(s));
}

static bool value_enum(struct loader *l, const struct node *v, const char *path,
		       const char *const *names, size_t n_names, const char *expected, size_t *out)
{
	const char *s = get_string(l, v, path, expected);

	if (!s)
		return false;
	for (size_t i = 0; i < n_names; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return true;
		}
	}
	char *q = quote_value(v->value, v->len);
	node_error(l, v, path, "unknown value %s, expected %s", q, expected);
	free(q);
	return false;
}

static void value_tri(struct loader *l, const struct node *v, const char *path, enum tri *field)
{
	if (node_is_bool(v)) {
		*field = scalar_is(v, "true") ? TRI_TRUE : TRI_FALSE;
		return;
	}
	if (v->kind == NODE_SCALAR && v->plain && scalar_is(v, "any")) {
		*field = TRI_UNKNOWN;
		return;
	}
	if (v->kind == NODE_SCALAR) {
		char *q = quote_value(v->value, v->len);

		node_error(l, v, path, "expected true, false or any, got %s %s", describe(v), q);
		free(q);
	} else {
		node_error(l, v, path, "expected true, false or any, got %s", describe(v));
	}
}

static const char *const join_rule_names[JOIN_RULE__MAX] = {
	[JOIN_RULE_PUBLIC] = "public",
	[JOIN_RULE_INVITE] = "invite",
	[JOIN_RULE_KNOCK] = "knock",
	[JOIN_RULE_RESTRICTED] = "restricted",
	[JOIN_RULE_KNOCK_RESTRICTED] = "knock_restricted",
	[JOIN_RULE_PRIVATE] = "private",
};

const char *policy_join_rule_name(enum join_rule r)
{
	return (unsigned)r < JOIN_RULE__MAX ? join_rule_names[r] : "invalid";
}

unsigned policy_join_rule_bit(const char *name)
{
	for (unsigned i = 0; name && i < JOIN_RULE__MAX; i++)
		if (strcmp(name, join_rule_names[i]) == 0)
			return JOIN_RULE_BIT(i);
	return 0;
}

#define JOIN_RULES_EXPECTED "public, invite, knock, restricted, knock_restricted or private"

/* join_rule: one value, or a non-empty list of them (any one will do). */
static void value_join_rules(struct loader *l, const struct node *v, const char *path, unsigned *field)
{
	unsigned bits = 0;
	size_t e;

	if (v->kind == NODE_SCALAR) {
		if (value_enum(l, v, path, join_rule_names, JOIN_RULE__MAX, JOIN_RULES_EXPECTED, &e))
			*field = JOIN_RULE_BIT(e);
		return;
	}
	if (v->kind != NODE_SEQUENCE || v->n == 0) {
		node_error(l, v, path, "expected a join rule or a non-empty list of them (" JOIN_RULES_EXPECTED "), got %s",
			   v->kind == NODE_SEQUENCE ? "an empty list" : describe(v));
		return;
	}
	for (size_t i = 0; i < v->n; i++) {
		char *ipath = xasprintf("%s[%zu]", path, i);

		if (node_usable(l, v->items[i], ipath) &&
		    value_enum(l, v->items[i], ipath, join_rule_names, JOIN_RULE__MAX, JOIN_RULES_EXPECTED, &e))
			bits |= JOIN_RULE_BIT(e);
		free(ipath);
	}
	if (bits)
		*field = bits;
}

/* room_type: a glob ("m.space"), or null for an ordinary room. An empty
 * value is refused rather than read as null: it is more often a value
 * left out than a wish for ordinary rooms. */
static bool value_room_type(struct loader *l, const struct node *v, const char *path, char **field)
{
	const char *s;

	if (v->kind == NODE_SCALAR && v->plain && (scalar_is(v, "null") || scalar_is(v, "~"))) {
		set_string(field, NULL);
		return true;
	}
	if (v->kind == NODE_SCALAR && v->plain && v->len == 0) {
		node_error(l, v, path, "empty, expected a glob like \"m.space\" or null (an ordinary room)");
		return false;
	}
	s = get_string(l, v, path, "a glob like \"m.space\" or null (an ordinary room)");
	if (s && !s[0])
		node_error(l, v, path, "empty, expected a glob like \"m.space\" or null (an ordinary room)");
	else if (s)
		set_string(field, xstrdup(s));
	return s && s[0];
}

/* What an exact entry (no glob characters) of a list must look like. */
enum list_form { LIST_ANY, LIST_ROOM, LIST_ALIAS, LIST_USER };

static bool matrix_id_ok(const char *s, char sigil, bool exact_only)
{
	const char *colon;

	if (sigil == '!')
		return room_id_valid(s);
	if (!exact_only && !policy_alias_is_exact(s))
		return true;  /* a glob: fnmatch decides */
	colon = strchr(s, ':');
	return s[0] == sigil && colon && colon > s + 1 && colon[1] != '\0';
}

static void value_list(struct loader *l, const struct node *v, const char *path,
		       struct string_list *list, enum list_form form)
{
	static const char *const forms[] = {
		[LIST_ANY] = "a non-empty string",
		[LIST_ROOM] = "a room id like !abc:example.org (globs are not allowed here)",
		[LIST_ALIAS] = "an alias like #room:example.org, or a glob",
		[LIST_USER] = "a user id like @notices:example.org, or a glob",
	};
	static const char sigils[] = { [LIST_ANY] = 0, [LIST_ROOM] = '!', [LIST_ALIAS] = '#', [LIST_USER] = '@' };

	if (v->kind != NODE_SEQUENCE) {
		node_error(l, v, path, "expected a list like [\"...\"], got %s", describe(v));
		return;
	}
	for (size_t i = 0; i < v->n; i++) {
		const struct node *item = v->items[i];
		char *ipath = xasprintf("%s[%zu]", path, i);
		const char *s = node_usable(l, item, ipath) ? get_string(l, item, ipath, forms[form]) : NULL;

		if (s && (!s[0] || (form != LIST_ANY && !matrix_id_ok(s, sigils[form], form == LIST_ROOM)))) {
			char *q = quote_value(item->value, item->len);

			node_error(l, item, ipath, "expected %s, got %s", forms[form], q);
			free(q);
		} else if (s) {
			list->items = xreallocarray(list->items, list->n + 1, sizeof(*list->items));
			list->items[list->n++] = xstrdup(s);
		}
		free(ipath);
	}
}

static int compare_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

static bool parse_hhmm(const char *s, unsigned *minutes)
{
	if (strlen(s) != 5 || s[2] != ':')
		return false;
	for (int i = 0; i < 5; i++)
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			return false;
	unsigned h = (unsigned)((s[0] - '0') * 10 + (s[1] - '0'));
	unsigned m = (unsigned)((s[3] - '0') * 10 + (s[4] - '0'));
	if (h > 23 || m > 59)
		return false;
	*minutes = h * 60 + m;
	return true;
}

static void value_times(struct loader *l, const struct node *v, const char *path, struct policy *p)
{
	size_t n = 0;

	if (v->kind != NODE_SEQUENCE || v->n == 0) {
		node_error(l, v, path, "expected a non-empty list of \"HH:MM\" times, got %s",
			   v->kind == NODE_SEQUENCE ? "an empty list" : describe(v));
		return;
	}
	free(p->schedule.at);
	p->schedule.at = xreallocarray(NULL, v->n, sizeof(*p->schedule.at));
	for (size_t i = 0; i < v->n; i++) {
		const struct node *item = v->items[i];
		char *ipath = xasprintf("%s[%zu]", path, i);
		const char *s = node_usable(l, item, ipath) ? get_string(l, item, ipath, "a time \"HH:MM\"") : NULL;

		if (s && parse_hhmm(s, &p->schedule.at[n])) {
			n++;
		} else if (s) {
			char *q = quote_value(item->value, item->len);

			node_error(l, item, ipath, "expected a 24-hour time \"HH:MM\" (00:00 to 23:59), got %s", q);
			free(q);
		}
		free(ipath);
	}
	qsort(p->schedule.at, n, sizeof(*p->schedule.at), compare_unsigned);
	p->schedule.n_at = 0;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || p->schedule.at[i] != p->schedule.at[i - 1])
			p->schedule.at[p->schedule.n_at++] = p->schedule.at[i];
}

static void value_range(struct loader *l, const struct node *v, const char *path, struct count_range *range)
{
	const struct node *min = map_get(v, "min"), *max = map_get(v, "max");
	size_t before = l->n_errors;

	if (v->kind != NODE_MAPPING) {
		node_error(l, v, path, "expected {min: N, max: N} (either may be left out), got %s", describe(v));
		return;
	}
	if (!min && !max) {
		node_error(l, v, path, "expected min and/or max, like {max: 0}");
		return;
	}
	walk_map(l, v, path, range_keys, range);
	if (l->n_errors == before && range->min > range->max)
		node_error(l, v, path, "min (%lld) is greater than max (%lld), nothing could match",
			   (long long)range->min, (long long)range->max);
	range->set = true;
}

/* ---- walking the tree against the schema ------------------------------ */

static void walk_rules(struct loader *l, const struct node *v, const char *path);

static void walk_value(struct loader *l, const struct node *v, const char *path,
		       const struct key *k, void *base)
{
	static const char *const actions[] = { [RULE_ACTION_RECORD] = "record", [RULE_ACTION_DELETE] = "delete" };
	static const char *const activities[] = { [ACTIVITY_EVENTS] = "events", [ACTIVITY_MESSAGES] = "messages" };
	uint64_t u;
	size_t e;

	switch (k->kind) {
	case K_SECTION:
		walk_map(l, v, path, k->sub, base);
		break;
	case K_RANGE:
		value_range(l, v, path, FIELD(base, k->off, struct count_range));
		break;
	case K_COUNT:
		if (get_uint(l, v, path, k->min, k->max, &u))
			*FIELD(base, k->off, int64_t) = (int64_t)u;
		break;
	case K_URL:
		value_url(l, v, path, FIELD(base, k->off, char *));
		break;
	case K_CREDENTIAL:
		value_credential(l, v, path, FIELD(base, k->off, char *));
		break;
	case K_PATH:
	case K_PATH_OR_EMPTY:
		value_path(l, v, path, FIELD(base, k->off, char *), k->kind == K_PATH_OR_EMPTY);
		break;
	case K_BOOL:
		get_bool(l, v, path, FIELD(base, k->off, bool));
		break;
	case K_DURATION:
		if (get_duration(l, v, path, k->min, k->max, FIELD(base, k->off, uint64_t)) && k->has_flag)
			*FIELD(base, k->flag_off, bool) = true;
		break;
	case K_UINT:
		if (get_uint(l, v, path, k->min, k->max, &u)) {
			*FIELD(base, k->off, unsigned) = (unsigned)u;
			if (k->has_flag)
				*FIELD(base, k->flag_off, bool) = true;
		}
		break;
	case K_FRACTION:
		get_fraction(l, v, path, FIELD(base, k->off, double));
		break;
	case K_ROOM_IDS:
		value_list(l, v, path, FIELD(base, k->off, struct string_list), LIST_ROOM);
		break;
	case K_ALIASES:
		value_list(l, v, path, FIELD(base, k->off, struct string_list), LIST_ALIAS);
		break;
	case K_USER_GLOBS:
		value_list(l, v, path, FIELD(base, k->off, struct string_list), LIST_USER);
		break;
	case K_GLOBS:
		value_list(l, v, path, FIELD(base, k->off, struct string_list), LIST_ANY);
		break;
	case K_GLOB: {
		const char *s = get_string(l, v, path, "a glob pattern like \"Test *\"");

		if (s && !s[0])
			node_error(l, v, path, "empty, expected a glob pattern like \"Test *\"");
		else if (s)
			set_string(FIELD(base, k->off, char *), xstrdup(s));
		break;
	}
	case K_TRISTATE:
		value_tri(l, v, path, FIELD(base, k->off, enum tri));
		break;
	case K_JOIN_RULES:
		value_join_rules(l, v, path, FIELD(base, k->off, unsigned));
		break;
	case K_ROOM_TYPE:
		if (value_room_type(l, v, path, FIELD(base, k->off, char *)))
			*FIELD(base, k->flag_off, bool) = true;
		break;
	case K_ACTION:
		if (value_enum(l, v, path, actions, ARRAY_SIZE(actions), "record or delete", &e))
			*FIELD(base, k->off, enum rule_action) = (enum rule_action)e;
		break;
	case K_ACTIVITY:
		if (value_enum(l, v, path, activities, ARRAY_SIZE(activities), "events or messages", &e))
			*FIELD(base, k->off, enum activity_kind) = (enum activity_kind)e;
		break;
	case K_TIMES:
		value_times(l, v, path, l->p);
		break;
	case K_RULES:
		walk_rules(l, v, path);
		break;
	case K_RULE_NAME:
		value_rule_name(l, v, path, FIELD(base, k->off, char *));
		break;
	}
}

static const struct key *find_key(const struct key *keys, const struct node *k)
{
	for (; keys->name; keys++)
		if (scalar_is(k, keys->name))
			return keys;
	return NULL;
}

static bool has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* Returns the key name of a mapping entry, or NULL (after an error) when the
 * entry cannot be used: not a plain name, a merge key, or a duplicate. */
static const char *entry_key(struct loader *l, const struct node *map, size_t i, const char *path)
{
	const struct node *k = map->items[i];

	if (!node_usable(l, k, path))
		return NULL;
	if (k->kind != NODE_SCALAR || node_is_null(k) || has_control(k->value, k->len)) {
		node_error(l, k, path[0] ? path : "(top level)", "expected a key name, got %s", describe(k));
		return NULL;
	}
	if (k->plain && scalar_is(k, "<<")) {
		char *kp = join_key(path, "<<");

		node_error(l, k, kp, "YAML merge keys are not allowed, write the keys out");
		free(kp);
		return NULL;
	}
	/* libyaml does not detect duplicate keys (DESIGN.md §10); the YAML spec
	 * forbids them and a second value silently winning hides typos. */
	for (size_t j = 0; j < i; j += 2) {
		const struct node *prev = map->items[j];

		if (prev->kind == NODE_SCALAR && prev->len == k->len &&
		    memcmp(prev->value, k->value, k->len) == 0) {
			char *kp = join_key(path, k->value);

			node_error(l, k, kp, "duplicate key, first given at line %u", prev->line);
			free(kp);
			return NULL;
		}
	}
	return k->value;
}

static void walk_map(struct loader *l, const struct node *map, const char *path,
		     const struct key *keys, void *base)
{
	if (map->kind != NODE_MAPPING) {
		node_error(l, map, path, "expected a mapping (key: value), got %s", describe(map));
		return;
	}
	/* No section has more than a dozen keys; the bound keeps the duplicate
	 * check (quadratic) cheap on a hostile file. */
	if (map->n / 2 > POLICY_MAX_KEYS) {
		node_error(l, map, path[0] ? path : "(top level)", "%zu keys, expected at most %d",
			   map->n / 2, POLICY_MAX_KEYS);
		return;
	}
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const char *name = entry_key(l, map, i, path);
		const struct node *v = map->items[i + 1];
		const struct key *k;
		char *kp;

		if (!name)
			continue;
		kp = join_key(path, name);
		k = find_key(keys, map->items[i]);
		if (!k) {
			char *expected = key_list(keys);

			node_error(l, map->items[i], kp, "unknown key, expected one of %s", expected);
			free(expected);
		} else if (node_usable(l, v, kp)) {
			walk_value(l, v, kp, k, base);
		}
		free(kp);
	}
	for (const struct key *k = keys; k->name; k++) {
		if (k->required && !map_get(map, k->name)) {
			char *kp = join_key(path, k->name);

			node_error(l, map, kp, "missing, expected %s", k->what);
			free(kp);
		}
	}
}

/* ---- rules ----------------------------------------------------------- */

static bool rule_has_condition(const struct rule *r)
{
	return r->joined_members.set || r->joined_local_members.set || r->has_inactive_for ||
	       r->has_older_than || r->is_public != TRI_UNKNOWN || r->is_encrypted != TRI_UNKNOWN ||
	       r->name_glob || r->alias_glob || r->creator_glob || r->join_rules || r->has_room_type ||
	       r->state_events.set || r->version_glob || r->is_federatable != TRI_UNKNOWN;
}

static void check_rule(struct loader *l, const struct node *item, const char *path,
		       size_t index, size_t errors_before)
{
	const struct rule *r = &l->p->rules[index];
	const struct node *match = map_get(item, "match"), *action = map_get(item, "action");
	char *mpath = join_key(path, "match");

	if (match && match->kind == NODE_MAPPING &&
	    (match->n == 0 || (l->n_errors == errors_before && !rule_has_condition(r)))) {
		char *expected = key_list(match_keys);

		node_error(l, match, mpath, "no conditions (a rule would match every room), expected at least one of %s",
			   expected);
		free(expected);
	} else if (match && match->kind == NODE_MAPPING && action && scalar_is(action, "delete") &&
		   !map_get(match, "inactive_for") && !map_get(match, "older_than")) {
		/* DESIGN.md §5: deleting on member counts alone is refused. */
		node_error(l, match, mpath,
			   "an action: delete rule needs inactive_for or older_than (member counts alone are not enough to delete)");
	}
	free(mpath);
	if (!r->name)
		return;
	for (size_t j = 0; j < index; j++) {
		const struct rule *prev = &l->p->rules[j];

		if (prev->name && strcmp(prev->name, r->name) == 0) {
			char *npath = join_key(path, "name");

			node_error(l, map_get(item, "name"), npath,
				   "duplicate rule name \"%s\", first used by the rule at line %u", r->name, prev->line);
			free(npath);
			break;
		}
	}
}

static void walk_rules(struct loader *l, const struct node *v, const char *path)
{
	struct policy *p = l->p;

	if (v->kind != NODE_SEQUENCE) {
		node_error(l, v, path, "expected a list of rules (\"- name: ...\"), got %s", describe(v));
		return;
	}
	for (size_t i = 0; i < v->n; i++) {
		const struct node *item = v->items[i];
		char *rpath = xasprintf("%s[%zu]", path, i);
		size_t before = l->n_errors;
		struct rule *r;

		if (node_usable(l, item, rpath) && item->kind != NODE_MAPPING) {
			node_error(l, item, rpath, "expected a rule (a mapping with name, action, match), got %s",
				   describe(item));
		} else if (item->kind == NODE_MAPPING && !item->anchor && !item->tagged) {
			p->rules = xreallocarray(p->rules, p->n_rules + 1, sizeof(*p->rules));
			r = &p->rules[p->n_rules];
			memset(r, 0, sizeof(*r));
			r->joined_members.max = INT64_MAX;
			r->joined_local_members.max = INT64_MAX;
			r->state_events.max = INT64_MAX;
			r->line = item->line;
			p->n_rules++;
			walk_map(l, item, rpath, rule_keys, r);
			check_rule(l, item, rpath, p->n_rules - 1, before);
		}
		free(rpath);
	}
}

/* ---- whole-policy checks --------------------------------------------- */

static void check_sections(struct loader *l, const struct node *root)
{
	const struct node *hs = map_get(root, "homeserver"), *sched = map_get(root, "schedule");
	const struct node *del = map_get(root, "delete");
	struct policy *p = l->p;

	if (hs && hs->kind == NODE_MAPPING && !map_get(hs, "token_file") && !map_get(hs, "token_credential"))
		node_error(l, map_key(root, "homeserver"), "homeserver",
			   "neither token_file nor token_credential is set, expected at least one (the admin token is read from there)");
	if (sched && sched->kind == NODE_MAPPING) {
		const struct node *at = map_get(sched, "at"), *every = map_get(sched, "every");

		p->schedule.present = true;
		if (at && every)
			node_error(l, every, "schedule.every", "both at and every are set, expected exactly one");
		else if (!at && !every)
			node_error(l, map_key(root, "schedule"), "schedule", "neither at nor every is set, expected exactly one");
	}
	if (del && del->kind == NODE_MAPPING && p->delete.force_purge && !p->delete.purge)
		node_error(l, map_get(del, "force_purge"), "delete.force_purge",
			   "force_purge: true needs purge: true (Synapse only force-purges a purged room)");
	if (p->metrics_file && !p->metrics_file[0]) {
		free(p->metrics_file);
		p->metrics_file = NULL;
	}
}

static void walk_document(struct loader *l)
{
	const struct node *root = l->root;

	if (!root || node_is_null(root)) {
		error_at(l, 1, 1, "(top level)",
			 "the policy is empty, expected a mapping with at least homeserver");
		return;
	}
	if (!node_usable(l, root, "(top level)"))
		return;
	if (root->kind != NODE_MAPPING) {
		node_error(l, root, "(top level)", "expected a mapping of policy keys (homeserver, rules, ...), got %s",
			   describe(root));
		return;
	}
	walk_map(l, root, "", top_keys, l->p);
	check_sections(l, root);
}

/* ---- loading --------------------------------------------------------- */

static void policy_set_defaults(struct policy *p)
{
	/* DESIGN.md §5: the safe choice where there is one. */
	p->homeserver.timeout = 30;
	p->homeserver.concurrency = 4;
	p->homeserver.rate_limit = 0;
	p->homeserver.page_size = 500;
	p->homeserver.tls_verify = true;
	p->dry_run = true;
	p->protect.is_public = true;
	p->protect.spaces = true;
	p->activity = ACTIVITY_EVENTS;
	p->delete.purge = true;
	p->delete.block = false;
	p->delete.force_purge = false;
	p->delete.max_per_run = 100;
	p->delete.max_fraction = 0.10;
	p->delete.grace_period = 0;
	p->delete.concurrency = 1;
	p->delete.timeout = 3600;
	p->records.csv = xstrdup(STATEDIR "/candidates.csv");
	p->records.jsonl = xstrdup(STATEDIR "/decisions.jsonl");
	p->records.all_rooms = false;
	p->state_file = xstrdup(STATEDIR "/state.json");
}

/* Relative paths in the policy start at the policy file's directory, made
 * absolute now so that a daemon's later chdir() or reload changes nothing. */
static char *base_dir_of(const char *name)
{
	const char *slash = strrchr(name, '/');
	char *dir, *abs, cwd[4096];

	if (!slash)
		dir = xstrdup(".");
	else if (slash == name)
		dir = xstrdup("/");
	else
		dir = xstrndup(name, (size_t)(slash - name));
	if (dir[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return dir;
	if (strcmp(dir, ".") == 0)
		abs = xstrdup(cwd);
	else
		abs = xasprintf("%s/%s", cwd, strncmp(dir, "./", 2) == 0 ? dir + 2 : dir);
	free(dir);
	return abs;
}

int policy_load_buffer(const char *name, const char *data, size_t len,
		       struct policy **out, struct policy_errors *errs)
{
	struct loader l = {
		.name = name,
		.data = data,
		.len = len,
		.errs = errs,
	};

	*out = NULL;
	l.base_dir = base_dir_of(name);
	l.p = xcalloc(1, sizeof(*l.p));
	l.p->path = xstrdup(name);
	policy_set_defaults(l.p);
	if (tree_build(&l) == 0)
		walk_document(&l);
	else if (l.n_errors == 0)
		error_at(&l, 1, 1, "syntax error", "cannot parse the document");
	errors_finish(&l);
	node_free(l.root);
	free(l.base_dir);
	if (l.n_errors > 0) {
		policy_free(l.p);
		return -EINVAL;
	}
	*out = l.p;
	return 0;
}

int policy_load(const char *path, struct policy **out, struct policy_errors *errs)
{
	char *data = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	r = file_read_capped(path, POLICY_MAX_BYTES, &data, &len);
	if (r < 0) {
		if (errs) {
			errors_push(errs, xasprintf("%s: cannot read the policy file: %s%s", path, strerror(-r),
					       r == -EFBIG ? " (over 1 MiB)" : ""));
		}
		return r;
	}
	r = policy_load_buffer(path, data, len, out, errs);
	free(data);
	return r;
}

static void string_list_free(struct string_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	free(p->path);
	free(p->homeserver.url);
	free(p->homeserver.token_credential);
	free(p->homeserver.token_file);
	free(p->homeserver.ca_file);
	free(p->schedule.at);
	string_list_free(&p->protect.rooms);
	string_list_free(&p->protect.aliases);
	string_list_free(&p->protect.names);
	string_list_free(&p->protect.creators);
	for (size_t i = 0; i < p->n_rules; i++) {
		free(p->rules[i].name);
		free(p->rules[i].name_glob);
		free(p->rules[i].alias_glob);
		free(p->rules[i].creator_glob);
		free(p->rules[i].room_type_glob);
		free(p->rules[i].version_glob);
	}
	free(p->rules);
	free(p->records.csv);
	free(p->records.jsonl);
	free(p->state_file);
	free(p->metrics_file);
	free(p);
}

void policy_errors_free(struct policy_errors *errs)
{
	if (!errs)
		return;
	for (size_t i = 0; i < errs->n; i++)
		free(errs->lines[i]);
	free(errs->lines);
	errs->lines = NULL;
	errs->n = 0;
}

bool policy_alias_is_exact(const char *alias)
{
	return alias && !strpbrk(alias, "*?[");
}

const struct rule *policy_find_rule(const struct policy *p, const char *name)
{
	if (!p || !name)
		return NULL;
	for (size_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].name && strcmp(p->rules[i].name, name) == 0)
			return &p->rules[i];
	return NULL;
}

/* ---- the --check-config summary ---------------------------------------- */

static const char *dur(uint64_t s, char *buf, size_t len)
{
	duration_format(s, buf, len);
	return buf;
}

static void print_list(FILE *f, const char *label, const struct string_list *l, bool aliases)
{
	fprintf(f, "  %-10s", label);
	if (l->n == 0)
		fputs(" (none)", f);
	for (size_t i = 0; i < l->n; i++) {
		fprintf(f, "%s %s", i ? "," : "", l->items[i]);
		if (aliases)
			fputs(policy_alias_is_exact(l->items[i]) ? " (exact)" : " (glob)", f);
	}
	fputc('\n', f);
}

static void print_range(FILE *f, const char *name, const struct count_range *r, bool *first)
{
	if (!r->set)
		return;
	fprintf(f, "%s%s ", *first ? "" : ", ", name);
	if (r->min == r->max)
		fprintf(f, "= %lld", (long long)r->min);
	else if (r->max == INT64_MAX)
		fprintf(f, ">= %lld", (long long)r->min);
	else if (r->min == 0)
		fprintf(f, "<= %lld", (long long)r->max);
	else
		fprintf(f, "%lld..%lld", (long long)r->min, (long long)r->max);
	*first = false;
}

static void print_cond(FILE *f, bool *first, const char *fmt, ...) SJ_PRINTF(3, 4);
static void print_cond(FILE *f, bool *first, const char *fmt, ...)
{
	va_list ap;

	fputs(*first ? "" : ", ", f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	*first = false;
}

static void print_rule(FILE *f, const struct policy *p, size_t i)
{
	const struct rule *r = &p->rules[i];
	bool first = true;
	char d[32];

	fprintf(f, "  %zu. %s (line %u): ", i + 1, r->name, r->line);
	if (r->action == RULE_ACTION_DELETE)
		fputs(p->dry_run ? "DELETE (recorded as would_delete: dry-run)" : "DELETE", f);
	else
		fputs("record", f);
	fputs(" when ", f);
	print_range(f, "joined_members", &r->joined_members, &first);
	print_range(f, "joined_local_members", &r->joined_local_members, &first);
	if (r->has_inactive_for)
		print_cond(f, &first, "inactive for %s or more", dur(r->inactive_for, d, sizeof(d)));
	if (r->has_older_than)
		print_cond(f, &first, "created %s ago or more", dur(r->older_than, d, sizeof(d)));
	if (r->is_public != TRI_UNKNOWN)
		print_cond(f, &first, "%s", r->is_public == TRI_TRUE ? "public" : "not public");
	if (r->is_encrypted != TRI_UNKNOWN)
		print_cond(f, &first, "%s", r->is_encrypted == TRI_TRUE ? "encrypted" : "not encrypted");
	if (r->name_glob)
		print_cond(f, &first, "name matches \"%s\"", r->name_glob);
	if (r->alias_glob)
		print_cond(f, &first, "alias matches \"%s\"", r->alias_glob);
	if (r->creator_glob)
		print_cond(f, &first, "creator matches \"%s\"", r->creator_glob);
	if (r->join_rules) {
		print_cond(f, &first, "join rule");
		for (unsigned j = 0, n = 0; j < JOIN_RULE__MAX; j++)
			if (r->join_rules & JOIN_RULE_BIT(j))
				fprintf(f, "%s %s", n++ ? " or" : "", join_rule_names[j]);
	}
	if (r->has_room_type && r->room_type_glob)
		print_cond(f, &first, "room type matches \"%s\"", r->room_type_glob);
	else if (r->has_room_type)
		print_cond(f, &first, "room type null (an ordinary room)");
	print_range(f, "state_events", &r->state_events, &first);
	if (r->version_glob)
		print_cond(f, &first, "room version matches \"%s\"", r->version_glob);
	if (r->is_federatable != TRI_UNKNOWN)
		print_cond(f, &first, "%s", r->is_federatable == TRI_TRUE ? "federatable" : "not federatable");
	fputc('\n', f);
}

static void print_protections(const struct policy *p, FILE *f)
{
	fputs("\nProtected (checked before the rules; a protected room is never deleted):\n", f);
	print_list(f, "rooms:", &p->protect.rooms, false);
	print_list(f, "aliases:", &p->protect.aliases, true);
	print_list(f, "names:", &p->protect.names, false);
	print_list(f, "creators:", &p->protect.creators, false);
	fprintf(f, "  public:    %s\n", p->protect.is_public ? "yes, rooms in the public room directory" : "no");
	fprintf(f, "  spaces:    %s\n", p->protect.spaces ? "yes, rooms of type m.space" : "no");
	fputs("  Note: once the last local member leaves, Synapse reports a room's name and\n"
	      "  alias as null, so name and alias globs cannot see it. Exact aliases are\n"
	      "  resolved to room ids at the start of each run; protect important rooms by\n"
	      "  room id (protect.rooms) to be sure.\n", f);
}

static void print_schedule(const struct policy *p, FILE *f)
{
	char d[32];

	fputs("Schedule:    ", f);
	if (!p->schedule.present) {
		fputs("none (schedule: is only used in daemon mode)\n", f);
		return;
	}
	if (p->schedule.n_at > 0) {
		fputs("daily at", f);
		for (size_t i = 0; i < p->schedule.n_at; i++)
			fprintf(f, "%s %02u:%02u", i ? "," : "", p->schedule.at[i] / 60, p->schedule.at[i] % 60);
		fputs(" (local time)", f);
	} else {
		fprintf(f, "every %s", dur(p->schedule.every, d, sizeof(d)));
	}
	if (p->schedule.randomized_delay)
		fprintf(f, ", plus a random delay of up to %s", dur(p->schedule.randomized_delay, d, sizeof(d)));
	fprintf(f, "%s\n", p->schedule.run_at_start ? ", and once at start" : "");
}

void policy_print_summary(const struct policy *p, FILE *f)
{
	char d1[32], d2[32];

	if (p->dry_run)
		fputs("DRY-RUN: nothing will be deleted (set dry_run: false to delete)\n", f);
	else
		fputs("DELETING: rooms matching delete rules WILL BE DELETED\n", f);
	fprintf(f, "\nPolicy:      %s\n", p->path);
	fprintf(f, "Homeserver:  %s\n", p->homeserver.url);
	fprintf(f, "             timeout %s, %u lookups in parallel, ", dur(p->homeserver.timeout, d1, sizeof(d1)),
		p->homeserver.concurrency);
	if (p->homeserver.rate_limit)
		fprintf(f, "at most %u requests/s, ", p->homeserver.rate_limit);
	fprintf(f, "pages of %u rooms, TLS %s%s%s\n", p->homeserver.page_size,
		p->homeserver.tls_verify ? "verified" : "NOT VERIFIED",
		p->homeserver.ca_file ? " with CA file " : "", p->homeserver.ca_file ? p->homeserver.ca_file : "");
	fputs("Token:       ", f);
	if (p->homeserver.token_credential)
		fprintf(f, "credential %s%s", p->homeserver.token_credential, p->homeserver.token_file ? ", else " : "");
	if (p->homeserver.token_file)
		fprintf(f, "file %s", p->homeserver.token_file);
	fputs(" (not read by --check-config)\n", f);
	print_protections(p, f);
	fputs("\nRules (in order; the first that matches decides):\n", f);
	if (p->n_rules == 0)
		fputs("  (none: every room that is not protected is kept)\n", f);
	for (size_t i = 0; i < p->n_rules; i++)
		print_rule(f, p, i);
	fprintf(f, "\nActivity:    %s\n", p->activity == ACTIVITY_EVENTS ?
		"events (the newest event this server received)" :
		"messages (the newest m.room.message or m.room.encrypted)");
	fprintf(f, "Deletes:     purge %s, block %s, force_purge %s; %u at a time, timeout %s each\n",
		p->delete.purge ? "yes" : "no", p->delete.block ? "yes" : "no", p->delete.force_purge ? "yes" : "no",
		p->delete.concurrency, dur(p->delete.timeout, d1, sizeof(d1)));
	fprintf(f, "Caps:        none deleted if candidates exceed %g %% of the rooms scanned;\n"
		"             grace period %s; at most %u deletes per run\n",
		p->delete.max_fraction * 100, dur(p->delete.grace_period, d2, sizeof(d2)), p->delete.max_per_run);
	if (p->delete.has_max_state_events)
		fprintf(f, "Size guard:  rooms with more than %u state events are deferred, not deleted\n"
			"             (delete.max_state_events); only --apply deletes them\n",
			p->delete.max_state_events);
	else
		fputs("Size guard:  none (delete.max_state_events is not set: a scheduled run deletes\n"
		      "             rooms of any size)\n", f);
	fprintf(f, "Records:     CSV %s\n             JSONL %s\n             %s\n",
		p->records.csv[0] ? p->records.csv : "(off)", p->records.jsonl[0] ? p->records.jsonl : "(off)",
		p->records.all_rooms ? "a row for every room" : "rows for candidates and protected rooms");
	fprintf(f, "State file:  %s\n", p->state_file);
	fprintf(f, "Metrics:     %s\n", p->metrics_file ? p->metrics_file : "(off)");
	print_schedule(p, f);
}
