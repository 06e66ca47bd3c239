/* CHECK: exit(1) naming the failed expression. */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

/* The known pixel (x, y counted from the top) of test frame `i`. */
static inline unsigned char pixel_channel(unsigned x, unsigned y, unsigned i, unsigned c) {
    return (unsigned char)(c == 3 ? 255 : (x * 7 + y * 13 + i * 29 + c * 71) & 0xFF);
}

#endif
