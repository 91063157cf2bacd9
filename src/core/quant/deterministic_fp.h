/*
 * deterministic_fp.h -- included just before core_only.h by every file whose
 * float results end up stored (rotation, encoders), so codes are the same
 * bytes on every platform (lattice.md section 9, golden codes).
 *
 * GCC and clang fuse a * b + c into one FMA whenever the target has FMA
 * (aarch64 always, x86-64 only with -mfma), which rounds once instead of
 * twice and can move a rounded value across a decision threshold.  The
 * x86-64 baseline the Makefile builds for has no FMA, so the pragma is only
 * emitted where contraction could happen (GCC warns that the optimize pragma
 * can hinder inlining, so it stays off where it is not needed).
 */
#pragma once

#if defined(__FP_FAST_FMAF) || defined(__FP_FAST_FMA)
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#endif
