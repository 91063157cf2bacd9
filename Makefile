# vecdb -- built with PGXS.  `make test` and `make demo` are the two entry
# points for people (see README.md); the rest are the steps they call.

EXTENSION  = vecdb
EXTVERSION = 0.3.0
MODULE_big = vecdb

# Every .cpp under src/core is part of the core library (unit-tested alone).
CORE_OBJS = $(patsubst %.cpp,%.o,$(sort $(wildcard src/core/*.cpp src/core/*/*.cpp)))

PG_OBJS = \
	src/pg/guard.o \
	src/pg/index_util.o \
	src/pg/index_check.o \
	src/pg/vecdb.o \
	src/pg/quant/quant_functions.o \
	src/pg/quant/codec.o \
	src/pg/search/mmr.o \
	src/pg/types/vector.o \
	src/pg/types/vector_io.o \
	src/pg/types/vector_cast.o \
	src/pg/types/vector_distance.o \
	src/pg/types/vector_functions.o \
	src/pg/types/halfvec_io.o \
	src/pg/types/halfvec_functions.o \
	src/pg/types/vector_aggregates.o \
	src/pg/types/bit_distance.o \
	src/pg/types/sparsevec.o \
	src/pg/types/sparsevec_io.o \
	src/pg/types/sparsevec_cast.o \
	src/pg/types/sparsevec_functions.o \
	src/pg/hnsw/hnsw_handler.o \
	src/pg/hnsw/hnsw_page.o \
	src/pg/hnsw/hnsw_filter.o \
	src/pg/hnsw/hnsw_build.o \
	src/pg/hnsw/hnsw_insert.o \
	src/pg/hnsw/hnsw_scan.o \
	src/pg/hnsw/hnsw_vacuum.o \
	src/pg/hnsw/hnsw_check.o \
	src/pg/hnsw/hnsw_sparse.o \
	src/pg/ivf/ivf_handler.o \
	src/pg/ivf/ivf_page.o \
	src/pg/ivf/ivf_build.o \
	src/pg/ivf/ivf_insert.o \
	src/pg/ivf/ivf_scan.o \
	src/pg/ivf/ivf_vacuum.o \
	src/pg/ivf/ivf_check.o

OBJS = $(CORE_OBJS) $(PG_OBJS)

# The install script is built from the SQL beside the code it declares.
SQL_SOURCES = src/pg/vecdb.sql src/pg/types/vector.sql src/pg/types/vector_functions.sql src/pg/types/halfvec.sql src/pg/types/bit.sql \
              src/pg/types/sparsevec.sql \
              src/pg/quant/quant.sql src/pg/hnsw/hnsw.sql \
              src/pg/ivf/ivf.sql src/pg/search/search.sql
DATA_built  = $(EXTENSION)--$(EXTVERSION).sql
# Earlier versions' install scripts and the upgrade scripts from them.
DATA        = $(wildcard src/pg/upgrade/*.sql)

REGRESS      = vector_type vector_cast vector_functions vector_aggregates vector_errors halfvec hnsw_index hnsw_quantization hnsw_filter hnsw_extreme ivf_index halfvec_index sparsevec sparsevec_index bit_index index_check hnsw_shared search
REGRESS_OPTS = --load-extension=$(EXTENSION)

TAP_TESTS   = 1
PROVE_TESTS = test/t/*.pl

PG_CXXFLAGS = -std=c++17 -O3 -Wno-register
SHLIB_LINK += -lstdc++

# `make SANITIZE=undefined` builds vecdb.so with UndefinedBehaviorSanitizer
# (scripts/sanitize.sh): any report ends the backend.  Linking with
# -fsanitize=undefined makes vecdb.so depend on libubsan, so the server needs
# no LD_PRELOAD; ubsan_options.cpp gives the runtime its options.  Build it in
# a tree of its own: objects are not rebuilt when SANITIZE changes.
ifeq ($(SANITIZE),undefined)
PG_OBJS += src/pg/ubsan_options.o
PG_CXXFLAGS += -fsanitize=undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer
SHLIB_LINK += -fsanitize=undefined
else ifneq ($(SANITIZE),)
$(error SANITIZE=$(SANITIZE): only SANITIZE=undefined is supported for the extension)
endif

EXTRA_CLEAN = $(DATA_built) test/unit/vecdb_unit test/unit/vecdb_unit_asan build/asan bench/vecdb_bench bench/plain_loops.o bench/quant_eval bench/quant_bench bench/hnsw_eval bench/layout_eval bench/ann_client bench/fvecs_copy

# Debian's PostgreSQL is built with LLVM; PGXS would then also compile every
# file to bitcode with clang, without PG_CXXFLAGS.  vecdb has no JIT use.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Per-ISA translation units (CXXFLAGS, after the include: PGXS folds
# PG_CXXFLAGS in with := so target-specific PG_CXXFLAGS are ignored).
ifneq ($(filter x86_64 i%86,$(shell uname -m)),)
src/core/simd/distance_avx2.o: CXXFLAGS += -mavx2 -mfma -mpopcnt -mf16c
src/core/simd/distance_avx512.o: CXXFLAGS += -mavx512f -mfma -mpopcnt -mf16c
build/asan/src/core/simd/distance_avx2.o: ISA_FLAGS = -mavx2 -mfma -mpopcnt -mf16c
build/asan/src/core/simd/distance_avx512.o: ISA_FLAGS = -mavx512f -mfma -mpopcnt -mf16c
endif

$(DATA_built): $(SQL_SOURCES)
	cat $^ > $@

# Every object depends on the headers; the tree is small enough not to track
# them file by file.
HEADERS = $(wildcard src/core/*.h src/core/*/*.h src/core/*/*.inc src/pg/*.h src/pg/*/*.h)
$(OBJS): $(HEADERS)

# --- GoogleTest unit tests of src/core --------------------------------------
UNIT_SOURCES = $(wildcard test/unit/*_test.cpp)
TEST_CXXFLAGS = -std=c++17 -O2 -g -Wall -Wextra -pthread

test/unit/vecdb_unit: $(UNIT_SOURCES) $(CORE_OBJS) $(HEADERS)
	$(CXX) $(TEST_CXXFLAGS) -o $@ $(UNIT_SOURCES) $(CORE_OBJS) -lgtest -lgtest_main

# The same tests and core built with AddressSanitizer and UBSan (and UBSan's
# float-to-integer overflow check, which -fsanitize=undefined leaves out), at
# -O1 (compiles faster; as fast to run here), objects in build/asan so the
# normal build is untouched.  Core files keep PostgreSQL's code-generation
# flags (-fwrapv, -fno-strict-aliasing), as in vecdb.so.
SANITIZE_FLAGS = -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=all
SANITIZE_CXXFLAGS = -std=c++17 -O1 -g -Wall -Wextra -pthread
ASAN_CORE_OBJS = $(addprefix build/asan/,$(CORE_OBJS))
ASAN_UNIT_OBJS = $(addprefix build/asan/,$(UNIT_SOURCES:.cpp=.o))

build/asan/src/core/%.o: src/core/%.cpp $(HEADERS)
	@mkdir -p $(@D)
	$(CXX) $(SANITIZE_CXXFLAGS) -fwrapv -fno-strict-aliasing $(SANITIZE_FLAGS) $(ISA_FLAGS) -c -o $@ $<

build/asan/test/unit/%.o: test/unit/%.cpp $(HEADERS) $(wildcard test/unit/*.h)
	@mkdir -p $(@D)
	$(CXX) $(SANITIZE_CXXFLAGS) $(SANITIZE_FLAGS) -c -o $@ $<

test/unit/vecdb_unit_asan: $(ASAN_UNIT_OBJS) $(ASAN_CORE_OBJS)
	$(CXX) $(SANITIZE_CXXFLAGS) $(SANITIZE_FLAGS) -o $@ $^ -lgtest -lgtest_main

# Any report fails: halt_on_error, and leaks count.  Also checked: stack
# memory used after its function returned, and globals' constructors that
# read other translation units' globals before those are constructed.
ASAN_ENV = ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: unit unit-asan test test-sanitize demo bench bench-kernels bench-quant-kernels bench-ann-codes bench-sql bench-quant bench-hnsw bench-layout bench-ivf-scale bench-ann bench-ann-halfvec bench-ann-large bench-sharding bench-write
unit: test/unit/vecdb_unit
	./test/unit/vecdb_unit

unit-asan: test/unit/vecdb_unit_asan
	$(ASAN_ENV) ./test/unit/vecdb_unit_asan $(ASAN_ARGS)

# --- Google Benchmark ---------------------------------------------------------
# plain_loops.cpp is the baseline: the loops pgvector compiles, with
# pgvector's flags (auto-vectorized, no -march), so ratios compare like with like.
bench/plain_loops.o: bench/plain_loops.cpp bench/plain_loops.h
	$(CXX) -std=c++17 -O2 -ftree-vectorize -fassociative-math -fno-signed-zeros -fno-trapping-math -c -o $@ $<

bench/vecdb_bench: bench/distance_bench.cpp bench/plain_loops.o $(CORE_OBJS) $(HEADERS)
	$(CXX) -std=c++17 -O2 -pthread -o $@ bench/distance_bench.cpp bench/plain_loops.o $(CORE_OBJS) -lbenchmark

bench-kernels: bench/vecdb_bench
	./bench/vecdb_bench

# Every index code's encode and distance calls (Google Benchmark).
bench/quant_bench: bench/quant_bench.cpp $(CORE_OBJS) $(HEADERS)
	$(CXX) -std=c++17 -O2 -pthread -o $@ bench/quant_bench.cpp $(CORE_OBJS) -lbenchmark

bench-quant-kernels: bench/quant_bench
	./bench/quant_bench --benchmark_min_time=0.1

bench-sql:
	bash scripts/bench_sql.sh

# Quantizer accuracy and speed on the real data sets beside the project.
DATA_DIR ?= ../shared/data
bench/%_eval: bench/%_eval.cpp bench/eval_util.h $(CORE_OBJS) $(HEADERS)
	$(CXX) -std=c++17 -O3 -pthread -o $@ $< $(CORE_OBJS)

bench-quant: bench/quant_eval
	./bench/quant_eval $(DATA_DIR)/siftsmall/siftsmall_base.fvecs $(DATA_DIR)/siftsmall/siftsmall_query.fvecs
	zcat $(DATA_DIR)/mnist-10k-784-euclidean/mnist10k_base.fvecs.gz > /tmp/vecdb_mnist_base.fvecs
	zcat $(DATA_DIR)/mnist-10k-784-euclidean/mnist10k_query.fvecs.gz > /tmp/vecdb_mnist_query.fvecs
	./bench/quant_eval /tmp/vecdb_mnist_base.fvecs /tmp/vecdb_mnist_query.fvecs
	zcat $(DATA_DIR)/glove-100-angular/glove-100_base.fvecs.gz > /tmp/vecdb_glove_base.fvecs
	zcat $(DATA_DIR)/glove-100-angular/glove-100_query.fvecs.gz > /tmp/vecdb_glove_query.fvecs
	./bench/quant_eval --metric cosine --queries 1000 /tmp/vecdb_glove_base.fvecs /tmp/vecdb_glove_query.fvecs

# HNSW searched on each quantizer's codes, then re-ranked exactly.
bench-hnsw: bench/hnsw_eval
	./bench/hnsw_eval --metric l2 --decoded-build $(DATA_DIR)/siftsmall/siftsmall_base.fvecs $(DATA_DIR)/siftsmall/siftsmall_query.fvecs
	zcat $(DATA_DIR)/glove-100-angular/glove-100_base.fvecs.gz > /tmp/vecdb_glove_base.fvecs
	zcat $(DATA_DIR)/glove-100-angular/glove-100_query.fvecs.gz > /tmp/vecdb_glove_query.fvecs
	./bench/hnsw_eval --metric cosine --queries 1000 --decoded-build /tmp/vecdb_glove_base.fvecs /tmp/vecdb_glove_query.fvecs

# Index page accesses per query for candidate HNSW page layouts (simulated).
bench-layout: bench/layout_eval
	./bench/layout_eval --metric l2 $(DATA_DIR)/siftsmall/siftsmall_base.fvecs $(DATA_DIR)/siftsmall/siftsmall_query.fvecs
	zcat $(DATA_DIR)/glove-100-angular/glove-100_base.fvecs.gz > /tmp/vecdb_glove_base.fvecs
	zcat $(DATA_DIR)/glove-100-angular/glove-100_query.fvecs.gz > /tmp/vecdb_glove_query.fvecs
	./bench/layout_eval --metric cosine --queries 1000 /tmp/vecdb_glove_base.fvecs /tmp/vecdb_glove_query.fvecs

# The ivf scan's centroid search at 10^3 .. 10^6 lists, flat and two-level
# (simulated; the scale plan in src/pg/ivf/README.md).
bench-ivf-scale: bench/ivf_scale_eval
	./bench/ivf_scale_eval

# vecdb's HNSW index against pgvector's at the SQL level, in one throwaway
# cluster (scripts/bench_ann.sh compiles bench/ann_client and bench/fvecs_copy).
bench-ann:
	bash scripts/bench_ann.sh

# The same for every code the index can store, one run per code (the README's
# table of codes): reports bench/results/ann-<data set>-<code>.md.
ANN_CODES ?= sq8 e8_4bit e8 h4 binary
bench-ann-codes:
	for code in $(ANN_CODES); do \
	    DATASETS="$${DATASETS:-glove-100 mnist-10k}" REPORT_TAG=$$code \
	    VECDB_INDEX_OPTS=", quantization = '$$code'" bash scripts/bench_ann.sh || exit 1; \
	done

# The same on halfvec columns (halfvec_*_ops, both extensions): reports
# bench/results/ann-<data set>-halfvec.md.
bench-ann-halfvec:
	VECTOR_TYPE=halfvec DATASETS="$${DATASETS:-glove-100 mnist-10k}" bash scripts/bench_ann.sh

# The ivf index against pgvector's two at 1,000,000 generated rows (128-d,
# bench/gen_clustered.cpp) with shared_buffers far below every index's size,
# so queries read pages through the OS cache: bench/results/ann-synth-1m-ivf.md.
bench-ann-large:
	IVF=1 DATASETS=synth-1m SHARED_BUFFERS=$${SHARED_BUFFERS:-32MB} MAINTENANCE_WORK_MEM=$${MAINTENANCE_WORK_MEM:-2GB} \
	    PROBES_LIST="$${PROBES_LIST:-1 2 4 8 16 32 64}" bash scripts/bench_ann.sh

# The README's "Scaling out" query shapes: three shard clusters and a
# coordinator on this host, GloVe-100: bench/results/sharding-glove-100.md.
bench-sharding:
	bash scripts/bench_sharding.sh

# The hnsw write path against pgvector's (inserts, batch, UPDATE, VACUUM with
# inserts beside it, churn recall): bench/results/write-<data set>.md.
bench-write:
	bash scripts/bench_write.sh

bench: bench-kernels bench-quant-kernels bench-sql bench-quant bench-hnsw bench-layout bench-ivf-scale bench-ann bench-ann-codes \
       bench-ann-halfvec bench-ann-large bench-sharding bench-write

# --- The two commands of the README ----------------------------------------
test:
	bash scripts/test.sh

# The sanitizer and Valgrind suites alone (`make test` ends with them).
test-sanitize:
	bash scripts/test_sanitize.sh

demo:
	bash scripts/demo.sh

# `make install-as-vector`: vecdb also installed under pgvector's extension
# name and version, so frameworks that run CREATE EXTENSION vector get vecdb.
# It replaces pgvector's files on this server (README: "Replacing pgvector").
PGVECTOR_VERSION = 0.8.0
.PHONY: install-as-vector
install-as-vector: install
	sed -e "s/^default_version.*/default_version = '$(PGVECTOR_VERSION)'/" \
	    -e "s/^comment = '/comment = 'vecdb under the name vector: /" \
	    vecdb.control > '$(DESTDIR)$(datadir)/extension/vector.control'
	sed -e 's/CREATE EXTENSION vecdb/CREATE EXTENSION vector/' $(DATA_built) \
	    > '$(DESTDIR)$(datadir)/extension/vector--$(PGVECTOR_VERSION).sql'

# The Debian package postgresql-15-vecdb (debian/), built into build/deb/.
.PHONY: deb
deb:
	bash scripts/deb.sh

# --- Suites, each against an installed vecdb ---------------------------------
.PHONY: installcheck-regress installcheck-pgtap installcheck-tap print-regress
installcheck-regress:
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)

# The regress list, for scripts (sanitize.sh leaves one out under Valgrind).
print-regress:
	@echo $(REGRESS)

installcheck-pgtap:
	pg_prove --failures -d "$${PGDATABASE:-postgres}" test/pgtap/*.sql

installcheck-tap:
	$(prove_installcheck)
