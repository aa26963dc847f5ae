/*
 * expr_graph.h -- an expression graph being written, for the tests of
 * compiled objectives (test_expr.c, test_expr_native.c): nodes appended,
 * each returning its index, and the objective compiled from them.  A
 * graph is too large for the stack: make every one static.
 */
#ifndef MS_TEST_EXPR_GRAPH_H
#define MS_TEST_EXPR_GRAPH_H

#include "check.h"
#include "momsandbox.h"

enum { GRAPH_MAX = 16384 };
typedef struct {
  ms_expr_node n[GRAPH_MAX];
  uint32_t len;
} graph;

static inline uint32_t node(graph *g, int op, uint32_t a, uint32_t b, double c) {
  g->n[g->len] = (ms_expr_node){.op = op, .a = a, .b = b, .c = c};
  return g->len++;
}
static inline uint32_t var(graph *g, uint32_t i) { return node(g, MS_EXPR_VAR, i, 0, 0); }
static inline uint32_t cst(graph *g, double c) { return node(g, MS_EXPR_CONST, 0, 0, c); }
static inline uint32_t op2(graph *g, int op, uint32_t a, uint32_t b) { return node(g, op, a, b, 0); }
static inline uint32_t op1(graph *g, int op, uint32_t a) { return node(g, op, a, 0, 0); }

static inline ms_objective *compile(const graph *g, size_t dim) {
  ms_objective *f = NULL;
  CHECK_OK(ms_objective_expr(dim, g->n, g->len, &f));
  return f;
}

#endif
