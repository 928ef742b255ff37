/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_JSON_H
#define SJ_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Strict JSON helpers over json-c 0.16 (DESIGN.md §10): a STRICT tokener that
 * must consume the whole input, and getters that check the type first
 * (json_object_get_int64 would silently convert "12" or 1.5). The json-c
 * types stay opaque here: only json.c and synapse.c include json-c. */

struct json_object;

/* The same parser fed a body in pieces, as it arrives: each piece is
 * checked and tokenized at once, so a large body costs no long pause when
 * its last byte comes. feed returns 0, or -EBADMSG once the input cannot be
 * strict JSON (later pieces are ignored); finish returns 0 and a new
 * reference, or -EBADMSG with the reason in err, exactly as
 * json_parse_strict would have on the whole body. */
struct json_stream;
struct json_stream *json_stream_new(void);
/* The same, with the elements of the top-level object's array members
 * named in members (NULL-terminated, at most 3: the rows of a room list
 * page, the entries of the state file) handed to fn one by one as they
 * complete, each parsed strictly and put right after the call; in the
 * value finish returns such an array holds a single 0 when it had elements
 * (and is empty when it had none). So a large array is never one tree in
 * memory, not even of placeholders. A negative return of fn stops the stream: feed and
 * finish then return it. A member given twice is refused. */
typedef int (*json_element_fn)(void *ud, const char *member, struct json_object *element);
struct json_stream *json_stream_new_elements(const char *const *members, json_element_fn fn, void *ud);
int json_stream_feed(struct json_stream *s, const char *data, size_t len);
int json_stream_finish(struct json_stream *s, struct json_object **out, char *err, size_t errlen);
void json_stream_free(struct json_stream *s);

/* Drops a reference (NULL is fine). */
void json_put(struct json_object *obj);

/* Returns 0 and a new reference, or -EBADMSG with a reason in err. */
int json_parse_strict(const char *data, size_t len, struct json_object **out,
		      char *err, size_t errlen);

/* Each getter returns 0, -ENOENT (absent), -ENODATA (null) or -EINVAL (wrong
 * type). Strings are borrowed from obj. Integers must be JSON integers. */
int json_get_string(struct json_object *obj, const char *key, const char **out);
int json_get_int64(struct json_object *obj, const char *key, int64_t *out);
int json_get_bool(struct json_object *obj, const char *key, bool *out);
int json_get_array(struct json_object *obj, const char *key, struct json_object **out);
int json_get_object(struct json_object *obj, const char *key, struct json_object **out);

/* A value itself (an array element, a member met by json_each_member):
 * 0, -ENODATA (null) or -EINVAL (wrong type). */
int json_as_int64(struct json_object *v, int64_t *out);
int json_as_string(struct json_object *v, const char **out);

/* An array of exactly n values: true, with them in v (borrowed). */
bool json_array_items(struct json_object *a, struct json_object **v, size_t n);

/* Calls fn for each member of an object, in order, until it returns
 * non-zero (which is returned); -EINVAL when obj is not an object. */
int json_each_member(struct json_object *obj,
		     int (*fn)(const char *key, struct json_object *val, void *ud), void *ud);

/* One integer member of a JSON object body, for a caller that needs no
 * more of it (retry_after_ms of a 429). 0, or a negative errno. */
int json_peek_int64(const char *data, size_t len, const char *key, int64_t *out);

/* Append s as a JSON string literal (quotes included) to a struct buf. */
struct buf;
void json_append_string(struct buf *b, const char *s);

#endif
