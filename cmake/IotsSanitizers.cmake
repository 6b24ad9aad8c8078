if(IOTS_SANITIZE AND NOT IOTS_FUZZ)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
# libFuzzer: every library gets coverage instrumentation (fuzzer-no-link); only the fuzz targets
# link libFuzzer's main (tests/fuzz). A UBSan report aborts, so the fuzzer keeps it as a crash.
if(IOTS_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
