/*
 * builtin.c -- the list of built-in update rules, in the order ms.* and
 * ms_rule_class_at() present them.  Each rule lives in its own file.
 */
#include "../internal.h"

extern const ms_rule_class ms_rule_gd;
extern const ms_rule_class ms_rule_momentum;
extern const ms_rule_class ms_rule_sgd;

const ms_rule_class *const ms_rule_builtin[] = {
    &ms_rule_gd,
    &ms_rule_momentum,
    &ms_rule_sgd,
};

const size_t ms_rule_builtin_count =
    sizeof ms_rule_builtin / sizeof ms_rule_builtin[0];
