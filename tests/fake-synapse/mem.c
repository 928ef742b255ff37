/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Allocation, buffers, the string arena, URL decoding, integer parsing and
 * a seeded PRNG. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "fake.h"

static void oom(size_t n)
{
	fprintf(stderr, "fake-synapse: out of memory (%zu bytes)\n", n);
	exit(1);
}

void *fs_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *fs_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom(n * size);
	return p;
}

void *fs_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *fs_xstrdup(const char *s)
{
	char *p;

	if (!s)
		return NULL;
	p = strdup(s);
	if (!p)
		oom(strlen(s));
	return p;
}

char *fs_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		oom(0);
	va_end(ap);
	return s;
}

int64_t fs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t fs_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fbuf_add(struct fbuf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = fs_xrealloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void fbuf_puts(struct fbuf *b, const char *s)
{
	fbuf_add(b, s, strlen(s));
}

void fbuf_printf(struct fbuf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		fbuf_add(b, small, (size_t)n);
		return;
	}
	fbuf_add(b, "", 0);
	if (b->len + (size_t)n + 1 > b->cap) {
		b->cap = b->len + (size_t)n + 1;
		b->data = fs_xrealloc(b->data, b->cap);
	}
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void fbuf_free(struct fbuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

#define ARENA_BLOCK (8u << 20)
#define HUGE_PAGE (2u << 20)

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->blocks;

	n = (n + 15) & ~(size_t)15;
	if (!b || b->used + n > b->size) {
		size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		/* 2 MiB-aligned blocks may get transparent huge pages: 100k rooms
		 * then cost a few page faults instead of thousands */
		b = aligned_alloc(HUGE_PAGE, (sizeof(*b) + size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE);
		if (!b)
			oom(size);
		madvise(b, sizeof(*b) + size, MADV_HUGEPAGE);
		b->size = size;
		b->used = 0;
		b->next = a->blocks;
		a->blocks = b;
	}
	b->used += n;
	return memset(b->data + b->used - n, 0, n);
}

char *arena_strdup(struct arena *a, const char *s)
{
	size_t n;
	char *p;

	if (!s)
		return NULL;
	n = strlen(s);
	p = arena_alloc(a, n + 1);
	memcpy(p, s, n + 1);
	return p;
}

void arena_free(struct arena *a)
{
	while (a->blocks) {
		struct arena_block *b = a->blocks;

		a->blocks = b->next;
		free(b);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Synapse decodes both "%3A" and "%3a" (captures 222, 223); '+' stays '+'
 * in paths and becomes a space only in query strings, which our clients
 * always percent-encode. */
char *fs_url_decode(const char *s)
{
	size_t n = strlen(s), j = 0;
	char *out = fs_xmalloc(n + 1);

	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		/* s[n] is NUL, so hexval() stops before reading past it */
		if (s[i] == '%' && (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			out[j++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[j++] = s[i];
		}
	}
	out[j] = '\0';
	return out;
}

int fs_parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

/* splitmix64: small, fast and the same on every platform. */
uint64_t fs_rng_next(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

uint64_t fs_hash64(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}
