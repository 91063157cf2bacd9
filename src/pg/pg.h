/*
 * pg.h -- the one way glue code reaches PostgreSQL's headers.
 *
 * Include it after every C++ standard header: PostgreSQL defines macros
 * (Min, Max, Abs, _, snprintf, foreach, restrict ...) that break C++ headers
 * included after them.
 */
#pragma once

extern "C" {
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/varbit.h"
}
