// TEXTCLF_X86_CLONES builds a function twice, for any x86-64 and for AVX2, and the loader picks
// one for the CPU it runs on: element loops over vector_exp.h run twice as fast 8 wide. (Not
// "arch=haswell", which would add FMA: GCC will not inline a helper built for any x86-64 into a
// clone for another arch.) Elsewhere it is nothing. Not for templates or inline functions.
#pragma once

#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define TEXTCLF_X86_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef TEXTCLF_X86_CLONES
#define TEXTCLF_X86_CLONES
#endif
