/*
 * fuzz_lsn.c - libFuzzer target for the LSN text form (replication/lag.c):
 * each input, NUL-terminated, goes to lsn_parse. Whatever parses must be
 * "X/Y" with 1 to 8 hex digits each side and nothing else, must format back
 * (lsn_format) to text that parses to the same value, and that text must be
 * the canonical form of the input (the same digits, leading zeros dropped,
 * upper case). Whatever does not parse must not have the shape of an LSN.
 */
#include "lag.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* An independent reading of the grammar: 1-8 hex digits, '/', 1-8 hex digits, end. */
static bool lsn_shaped(const char *s)
{
	size_t a = 0, b = 0;

	while (is_hex(s[a]))
		a++;
	if (a < 1 || a > 8 || s[a] != '/')
		return false;
	s += a + 1;
	while (is_hex(s[b]))
		b++;
	return b >= 1 && b <= 8 && s[b] == '\0';
}

/* One side of the text, upper case and without leading zeros ("0" for zero). */
static void canonical_word(const char *s, size_t n, char *out)
{
	size_t k = 0;

	while (n > 1 && *s == '0') {
		s++;
		n--;
	}
	for (size_t i = 0; i < n; i++)
		out[k++] = (s[i] >= 'a' && s[i] <= 'f') ? (char)(s[i] - 'a' + 'A') : s[i];
	out[k] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char buf[LSN_TEXT_MAX], canon[LSN_TEXT_MAX];
	const char *slash;
	Lsn lsn = 0, back = 0;
	bool ok;

	CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';

	ok = lsn_parse(text, &lsn);
	CHECK(ok == lsn_shaped(text));
	if (ok) {
		/* format: NUL-terminated in the buffer, shaped, parses back to the value */
		memset(buf, 'x', sizeof(buf));
		CHECK(lsn_format(lsn, buf) == buf);
		CHECK(memchr(buf, '\0', sizeof(buf)) != NULL);
		CHECK(lsn_shaped(buf));
		CHECK(lsn_parse(buf, &back));
		CHECK(back == lsn);

		/* and it is the input's canonical spelling */
		slash = strchr(text, '/');
		CHECK(slash != NULL);
		canonical_word(text, (size_t)(slash - text), canon);
		size_t hi = strlen(canon);
		canon[hi] = '/';
		canonical_word(slash + 1, strlen(slash + 1), canon + hi + 1);
		CHECK(strcmp(buf, canon) == 0);
	}

	/* every value the input's first 8 bytes spell formats and parses back */
	if (size >= 8) {
		Lsn v;

		memcpy(&v, data, sizeof(v));
		CHECK(lsn_parse(lsn_format(v, buf), &back));
		CHECK(back == v);
	}
	free(text);
	return 0;
}
