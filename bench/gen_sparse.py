#!/usr/bin/env python3
"""gen_sparse.py -- SPLADE-like sparse vectors for comparing sparsevec indexes.

Writes COPY text files (id <TAB> sparsevec) of ROWS documents and QUERIES
queries over a vocabulary of 30,522 terms by default (BERT's, as SPLADE's).  Each vector
draws its terms from one of 200 topics (600 terms each, a few far likelier)
or, 30% of the time, from 300 terms shared by all; weights are positive,
mostly small.  Documents have log-normally many elements (median 110, 5 to
600), queries fewer (median 25, 3 to 80).  Deterministic.

Usage: gen_sparse.py ROWS QUERIES OUTDIR [VOCABULARY]
       (writes OUTDIR/docs.txt, OUTDIR/queries.txt; VOCABULARY at least 1,300)
Then, in a database with vecdb (or pgvector):
  CREATE TABLE sd (id int, e sparsevec(30522)); COPY sd FROM 'OUTDIR/docs.txt';
  CREATE TABLE sq (id int, e sparsevec(30522)); COPY sq FROM 'OUTDIR/queries.txt';
  CREATE INDEX ON sd USING hnsw (e sparsevec_ip_ops);
"""
import math
import random
import sys

def main():
    rows, queries, outdir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    vocabulary = int(sys.argv[4]) if len(sys.argv) > 4 else 30522
    rng = random.Random(7)
    topics = [rng.sample(range(vocabulary), 600) for _ in range(200)]
    shared = list(range(1000, 1300))

    def vector(elements):
        terms = topics[rng.randrange(len(topics))]
        weights = {}
        while len(weights) < elements:
            if rng.random() < 0.3:
                k = shared[int(len(shared) * rng.random() ** 2)]
            else:
                k = terms[int(len(terms) * rng.random() ** 1.5)]
            weights[k] = round(0.05 + 2.5 * rng.random() * rng.random(), 3)
        return "{" + ",".join("%d:%g" % (k + 1, weights[k]) for k in sorted(weights)) + "}/%d" % vocabulary

    def write(path, n, median, sigma, least, most):
        with open(path, "w") as f:
            for i in range(n):
                elements = max(least, min(most, int(rng.lognormvariate(math.log(median), sigma))))
                f.write("%d\t%s\n" % (i, vector(elements)))

    write(outdir + "/docs.txt", rows, 110, 0.45, 5, 600)
    write(outdir + "/queries.txt", queries, 25, 0.4, 3, 80)


if __name__ == "__main__":
    main()
