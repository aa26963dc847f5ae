/*
 * builtin.c -- the list of built-in update rules, in the order ms.* and
 * ms_rule_class_at() present them.  Each rule lives in its own file.
 */
#include "../internal.h"

extern const ms_rule_class ms_rule_gd;
extern const ms_rule_class ms_rule_momentum;
extern const ms_rule_class ms_rule_sgd;
extern const ms_rule_class ms_rule_nag;
extern const ms_rule_class ms_rule_nesterov;
extern const ms_rule_class ms_rule_qhm;
extern const ms_rule_class ms_rule_aggmo;
extern const ms_rule_class ms_rule_adam;
extern const ms_rule_class ms_rule_adamw;
extern const ms_rule_class ms_rule_rmsprop;
extern const ms_rule_class ms_rule_adagrad;

const ms_rule_class *const ms_rule_builtin[] = {
    &ms_rule_gd,       &ms_rule_momentum, &ms_rule_sgd,
    &ms_rule_nag,      &ms_rule_nesterov, &ms_rule_qhm,
    &ms_rule_aggmo,    &ms_rule_adam,     &ms_rule_adamw,
    &ms_rule_rmsprop,  &ms_rule_adagrad,
};

const size_t ms_rule_builtin_count = MS_COUNT(ms_rule_builtin);
