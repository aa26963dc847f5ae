/*
 * null_api.h -- what test_null_api.c and the calls cmake/gen_null_api.cmake
 * generates from the public headers share: one entry per public function,
 * and the fixtures a call takes its valid arguments from.
 */
#ifndef MS_NULL_API_H
#define MS_NULL_API_H

#include <stddef.h>
#include <stdint.h>

#include "momsandbox.h"
#include "momsandbox_host.h"

/* What a call returned. */
typedef struct ms_api_out {
  ms_status st;
  double d;
  long long i;
  unsigned long long u;
  const void *p;
} ms_api_out;

typedef enum ms_api_ret {
  MS_RET_VOID, MS_RET_STATUS, MS_RET_DOUBLE, MS_RET_SIGNED, MS_RET_UNSIGNED,
  MS_RET_PTR
} ms_api_ret;

/* Valid arguments, one per parameter type: the generator passes the member
 * named after the type ("const double *" -> double_p, "ms_rule **" ->
 * ms_rule_pp; const dropped, one p per star).  A type without a member
 * here is passed as NULL; add one when the test reports such a type. */
typedef struct ms_fixtures {
  double *double_p;
  const double **double_pp;
  char *char_p;
  const char **char_pp;
  void *void_p;
  size_t *size_t_p;
  int64_t *int64_t_p;
  int *int_p;
  ms_rng *ms_rng_p;
  ms_process *ms_process_p;
  const ms_rule_class *ms_rule_class_p;
  ms_rule *ms_rule_p;
  ms_rule **ms_rule_pp;
  ms_objective *ms_objective_p;
  ms_objective **ms_objective_pp;
  ms_schedule *ms_schedule_p;
  ms_schedule **ms_schedule_pp;
  ms_trace *ms_trace_p;
  ms_trace **ms_trace_pp;
  ms_data *ms_data_p;
  ms_data **ms_data_pp;
  ms_model *ms_model_p;
  ms_model **ms_model_pp;
  ms_train_result *ms_train_result_p;
  ms_train_result **ms_train_result_pp;
  ms_sweep *ms_sweep_p;
  ms_sweep **ms_sweep_pp;
  ms_trace_opts *ms_trace_opts_p;
  ms_train_opts *ms_train_opts_p;
  ms_sweep_opts *ms_sweep_opts_p;
  ms_data_opts *ms_data_opts_p;
  ms_model_opts *ms_model_opts_p;
  ms_server *ms_server_p;
  ms_server **ms_server_pp;
  ms_request *ms_request_p;
  ms_expr_node *ms_expr_node_p;
  ms_objective_fn ms_objective_fn;
  ms_schedule_fn ms_schedule_fn;
  ms_free_fn ms_free_fn;
} ms_fixtures;

typedef struct ms_api_call {
  const char *name;
  ms_api_ret ret;
  int nparams;
  unsigned pointers;     /* bit k: parameter k is a pointer */
  const char *params;    /* the parameters' names, "a,b,c" */
  const char *unfixed;   /* pointer types without a fixture, or "" */
  /* The call: f NULL, every pointer NULL, sizes 0 and doubles NaN; else
   * parameter k NULL (none for k = -1) and the others from f, sizes 2
   * and doubles 0.5. */
  void (*call)(ms_api_out *r, const ms_fixtures *f, int k);
} ms_api_call;

extern const ms_api_call ms_api_calls[];
extern const size_t ms_api_ncalls;

#endif
