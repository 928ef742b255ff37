/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_TEST_CAPTURE_H
#define SJ_TEST_CAPTURE_H

#include <stddef.h>

#include "http.h"

/* The real Synapse exchanges of $SHARED_DIR/captures (format: its README). */

struct capture_exchange {
	char *method;          /* "GET" */
	char *target;          /* "/_synapse/admin/v1/rooms?limit=2" */
	char *request_body;    /* "" when none */
	long status;           /* 200 */
	char *content_type;    /* "" when absent */
	char *body;            /* the complete body, NUL-terminated */
	size_t body_len;
	int body_from_pretty;  /* the raw copy was cut: body is the pretty copy */
};

struct capture {
	char *path;
	struct capture_exchange *ex;
	size_t n;
};

/* Load the capture whose file name starts with prefix ("101" or
 * "101-rooms-paging-limit2.txt"). Returns 0 or a negative errno. */
int capture_load(const char *prefix, struct capture *out);
void capture_free(struct capture *c);

/* The directory of the captures ($SHARED_DIR/captures). */
const char *capture_dir(void);

/* An http_response as the engine would have delivered exchange i. */
void capture_response(const struct capture *c, size_t i, struct http_response *r);

#endif
