// reel.h compiles as C++ and its functions link with C linkage.
#include <cstdio>

#include "reel.h"

int main() {
    reel_export_options options = {};
    char *error = nullptr;
    reel_export *exp = reel_export_start("/no/such/cache.reel", &options, &error);
    if (exp != nullptr || error == nullptr) return 1;
    reel_string_free(error);
    std::printf("cxx_header: ok\n");
    return 0;
}
