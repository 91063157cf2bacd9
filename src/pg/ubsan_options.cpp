/*
 * ubsan_options.cpp -- linked into vecdb.so only by `make SANITIZE=undefined`.
 *
 * UBSan reads UBSAN_OPTIONS from /proc/self/environ when it first reports,
 * and by then a backend has written its process title over that memory
 * (ps_status.c), so options set in the server's environment are lost.  The
 * runtime also asks this function for defaults: a report prints its stack.
 */
extern "C" const char *__ubsan_default_options(void);

extern "C" const char *__ubsan_default_options(void)
{
    return "print_stacktrace=1:halt_on_error=1";
}
