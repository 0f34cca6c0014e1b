/*
 * cfgutil.h - the helpers config.c and authfile.c share: "FILE:LINE: ..."
 * error messages, whitespace, and reading a whole file into memory.
 * Private to those two files.
 */
#ifndef PROXY_CFGUTIL_H
#define PROXY_CFGUTIL_H

#include "common.h"

/* Writes "FILE:LINE: message" (or "FILE: message" when line <= 0) to err. */
void err_set(char *err, size_t errlen, const char *file, int line, const char *fmt, ...)
    PRINTF_LIKE(5, 6);
bool is_blank(char c);
/*
 * Reads a whole file (at most max bytes) into a NUL-terminated heap buffer;
 * the file may itself contain NUL bytes: *lenp is the real length.
 */
char *file_read_all(const char *path, size_t max, size_t *lenp, char *err, size_t errlen);

#endif
