// The header compiles as C++ (extern "C" linkage) and the library links into a C++ program:
// a small RAII wrapper pushes and pops a pool around objects released by it.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "autorelease.h"

namespace {

class Pool {
  public:
    Pool() : token_(arp_pool_push()) {}
    ~Pool() { arp_pool_pop(token_); }
    Pool(const Pool &) = delete;
    Pool &operator=(const Pool &) = delete;

  private:
    void *token_;
};

std::vector<int> released;

extern "C" void note(arp_object *obj, void *) {
    released.push_back(*static_cast<int *>(arp_object_payload(obj)));
}

void require(bool ok, const char *what) {
    if (!ok) {
        std::fprintf(stderr, "failed: %s\n", what);
        std::exit(1);
    }
}

} // namespace

int main() {
    {
        Pool pool;
        for (int i = 0; i < 3; i++) {
            arp_object *obj = arp_object_new(sizeof(int), note, nullptr);
            *static_cast<int *>(arp_object_payload(obj)) = i;
            arp_autorelease(obj);
        }
        require(arp_pool_pending() == 3, "three pending");
        require(released.empty(), "nothing released inside the pool");
    }
    require(released == std::vector<int>({2, 1, 0}), "released newest first at the end of scope");
    require(arp_pool_depth() == 0, "depth back to zero");
    void *objc = objc_autoreleasePoolPush();
    objc_autoreleasePoolPop(objc);
    std::printf("cxx_header: ok\n");
    return 0;
}
