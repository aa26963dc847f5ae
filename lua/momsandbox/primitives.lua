--- momsandbox.primitives: the one list of what the two native layers give
-- the shared API, each with its contract.  The Lua 5.4 layer is the C
-- module (bindings/lua/), the LuaJIT layer the FFI one
-- (bindings/ffi/momsandbox/ffi_*.lua); spec/primitives_spec.lua checks that
-- each exports exactly these names, and that no value given to them
-- crashes.
--
-- Conventions, all primitives:
-- * A primitive checks every argument itself (types, kinds, integers,
--   sizes with overflow-safe products): no Lua value can crash it.  Its
--   argument errors name it with a fixed name and number (methods count
--   after self); the shared Lua checks first, so for the primitives that
--   are not methods such an error is a bug of the shared Lua.
-- * Engine failures are returned as nil, message, code; the shared Lua
--   decides how to report them.  Two are raised by the primitive itself:
--   the error of a Lua callback (re-raised unchanged) and Ctrl-C
--   (the host's "interrupted!").
-- * Handles (engine objects) are freed by the garbage collector and by
--   close(h), both safe twice; one in use by a running call is freed when
--   the call ends.  The references an engine object needs (a rule's
--   schedules, ...) are kept by the native layer.
-- * Metatables come from the shared Lua through class(kind, mt); the
--   native methods of a kind are added to mt.__index.
return {
  -- name = contract
  abi = "number: MS_ABI_VERSION of the engine library",
  layer = "string: \"lua54\" or \"luajit\"",
  extras = "table: what only this interpreter's users get, copied into ms (LuaJIT: ms.ffi)",
  version = "() -> string: ms_version()",
  format = "(x number) -> string: the shortest decimal that reads back as x",
  kind = "(v) -> kind name (\"vec\", \"rng\", ...) of a value made by the layer, or nil",
  close = "(h handle) -> (): free the engine object now (or when its running calls end)",
  class = "(kind string, mt table) -> mt: the kind's metatable, mt's fields plus the " ..
          "native methods in __index; once per kind, before the first object",

  rng_new = "(seed integer) -> rng: seeded with the 64-bit two's complement of seed",
  rule_classes = "() -> the built-in rule classes in registry order, each {name, doc = the update " ..
                 "equations (ms_rule_doc) or nil, lookahead = boolean, state = {names}, " ..
                 "hyper = {{name, def (NaN: required), lo, hi, lo_open, hi_open, flag}, ...}}",
  analysis = "(op string, ...) -> the theory of d2l 11.6.3; failures nil, msg, code: " ..
             "the formulas of ms_theory (R, eigenvalues, radius, converges (1 or 0), " ..
             "gd_rate, gd_optimal, momentum_optimal) of up to 3 numbers (nil: NaN) -> its " ..
             "results; parts(v [, want_c]) -> false (v not an objective), or Q vec " ..
             "of n x n, n, c vec|nil, b of a quadratic objective, or nil, msg; eigen(Q vec, " ..
             "n in [1, 2^15], vectors boolean) -> values vec [, vec of n x n: row k for " ..
             "values[k]]; " ..
             "minimize(Q vec, n, c vec of n|nil, b number) -> x vec, min; the theory of a " ..
             "rule (ms_rule_matrix..., stepping it: Lua rules call back), t an integer: " ..
             "rule_matrix(r, lambda number, t) -> M vec of m x m (m = 1 + #state), m; " ..
             "rule_spectrum(r, lambda, t) -> re vec, im vec (m each), the count x sees " ..
             "(the first); rule_radius(r, lambdas vec, t) -> radius; rule_region(r, lambdas, " ..
             "t, xname string, x vec, yname string, y vec) -> radii vec (#x #y, x fastest).  " ..
             "Ctrl-C stops eigen, minimize and the rule_ ones",
  sys = "(op string, ...) -> system services (core/src/system.c), strings without zero " ..
        "bytes, no shell: clock() -> seconds; isatty(fd integer) -> boolean; which(name) " ..
        "-> path or nil; mkdir(path), write(path, text string) -> true or nil, msg, code; " ..
        "run(argv table of 1 .. 65535 strings, input string) -> ok, status, out, err or nil, " ..
        "msg, code; start(argv) -> true (started, not waited for) or nil, msg, code",
  vec_new = "(n integer in [0, 2^30] [, fill number]) -> vec of n entries, fill or 0 " ..
            "(the shared Lua checks n and fill: the errors here are short)",
  vec_from = "(t) -> t if a live vec, a new vec from a table (raw length <= 2^30, " ..
             "numbers or numeric strings, no integer key past the length), or nil, why not",

  objective_builtin = "(name, args vec | model, data) -> objective, or nil, msg, code: " ..
    "ms_objective_builtin(name, args) (Ctrl-C stops it), or \"model\": ms_model_objective, " ..
    "holding both",
  objective_new = "(dim integer in [1, 2^30], f function, grad function or nil) -> objective " ..
    "calling f(x) and grad(x, out) with views that die when they return; without grad the " ..
    "engine's finite differences",
  objective_compile = "(dim integer in [1, 2^30], code vec of 4 numbers a node: op, a, b, c) " ..
    "-> objective of ms_objective_expr (ms_expr_node's fields, op its ms_expr_op), or nil, " ..
    "msg, code (a malformed graph: the engine's message)",
  objective_call = "(obj, op, x vec of obj's dim) -> value: f; grad, numgrad: vec; eval: f, " ..
    "vec; hessian: vec of dim x dim, row-major (ms_objective_hessian, Ctrl-C stops it); " ..
    "gradcheck: largest error, 1-based index (numgrad and gradcheck stop at Ctrl-C); " ..
    "callback errors raised as they were; nil, msg, code when closed or the engine fails",
  objective_info = "(obj) -> dim, name, window (vec of 4)|nil, minimizer vec|nil; nil, " ..
    "msg, code when closed",
  schedule_builtin = "(name, args vec [, parts table]) -> schedule, or nil, msg, code: " ..
    "ms_schedule_builtin(name, args, parts): parts live schedules, held until it is freed",
  schedule_fn = "(f function) -> schedule calling f(t); f's errors are raised, a result " ..
    "that is no number is 'schedule function returned T at step t, expected a number'",
  schedule_values = "(s schedule, t integer >= 1) -> s(t); nil, msg, code when closed or " ..
    "the engine fails",
  ruleclass_new = "(name, names table: the hyper-parameters' then the state vectors', " ..
                  "desc vec: six numbers per hyper-parameter (ms_rule_class_new), step " ..
                  "function, lookahead function|nil) -> ruleclass, or nil, msg, code",
  rule_new = "(class: a built-in's name or a ruleclass, ctx, info any value) -> rule; for " ..
             "a Lua class, ctx = {h = mt, hv = {}, s = mt, sv = {}}: the step gets proxies " ..
             "with metatables h and s, sv[name] the state views, hv the values in effect",
  rule_set = "(rule, name, number|boolean|schedule) -> true, or nil, message when the " ..
             "engine refuses it (ms_rule_set, ms_rule_set_schedule)",
  rule_op = "(rule, op, ...), a closed rule raising \"rule has been closed\": check -> " ..
            "true|nil, msg; reset -> true|nil, msg; steps -> integer; state -> {name = vec " ..
            "copy}; step(x live vec, g live vec of x's size >= 1) -> x|nil, msg; info -> " ..
            "rule_new's info.  A busy rule (reset, step): nil, \"rule is in use by a " ..
            "running step\"",
  trace_run = "(obj objective, rule, opts table) -> trace, keeping obj and the label of the " ..
              "rule's info (rule_new's info.label).  opts: x0 (vec or table of numbers), steps " ..
              "and every (integers; nil: the engine's defaults), nothing else, no metatable.  " ..
              "nil, msg, n > 0: argument n of ms.trace is not as this needs it (not an open " ..
              "objective or rule, other options: the shared Lua checks them and explains; msg: " ..
              "ms_trace_check's complaint, or says a handle is closed); nil, msg, 0: the rule " ..
              "is busy; nil, msg, code: the run failed.  Holds obj and rule for the run; Ctrl-C " ..
              "stops it",
  trace_get = "(tr, i integer (negative: from the end) [, j integer]) -> step, f, point i " ..
              "(a vec copy; j = 0: no point; j >= 1: its coordinate j), nothing out of range",
  trace_info = "(tr) -> len, dim, diverged step (0: none), reason|nil, trace_run's label and obj",
  data_new = "(how, ...) -> data, or nil, message, code: \"load\" (path, header, label " ..
             "(integer or column name), standardize, rows, max_bytes; nil: the engine's " ..
             "default), \"from\" (X vec, y vec, n, d: X row-major), \"synthetic\" (w vec, " ..
             "b, noise, n, seed).  close() marks it closed; it is freed with its last reference",
  data_get = "(d data, i integer [, j integer]) -> example i's features (new vec) and label, " ..
             "or its column j (d + 1: the label); nothing out of range; nil, msg when closed",
  data_info = "(d data [, what]) -> n, features; what \"mean\", \"std\", \"names\" -> " ..
              "the d + 1 columns' values or nothing; nil, msg when closed",
  data_dirs = "table: the folders of the project's data files (source tree, installed)",
  model_new = "(kind \"linreg\"|\"logreg\", features >= 1, loss, weight_std, bias_init " ..
              "(ms_loss, ms_bias_init values)) -> model, or nil, message, code.  close() " ..
              "marks it closed; it is freed with its last reference",
  model_call = "(m model, op, ...) -> nil, msg when closed; \"info\" -> name, features, " ..
               "nparams, loss, weight_std, bias_init; \"loss\" (data, params vec, rows " ..
               "table of 1-based indices|nil) -> loss, grad vec; \"evaluate\" (data, params) " ..
               "-> loss; \"predict\" (params, x vec) -> number; \"optimum\" (data) -> " ..
               "params, loss; \"init\" (seed integer) -> params.  Engine failures: nil, " ..
               "message, code",

  write_csv = "(h trace|train|sweep, path string [, header boolean]) -> true or nil, msg, " ..
              "code: the engine's CSV of h, whole or not at all (Ctrl-C stops it)",

  train_run = "(model, data, rule (idle), batch, epochs, seed, eval_every integers, shuffle, " ..
              "drop_last, init vec|nil, progress|nil) -> result, or nil, msg, code, setup " ..
              "(true: ms_train_check refused, nothing ran). progress(step, steps, seconds) about " ..
              "every 0.1 s; the rule is busy during the run",
  train_data = "(res) -> loss, initial_loss, seconds, wall, sec_per_epoch, epochs, steps, " ..
               "diverged (step or 0), reason|nil, params, init (new vecs), curve (a new vec: " ..
               "examples, epoch, loss of each point in turn); nothing once closed",

  range_values = "(name string, from, to, n integer <= 1e6, log) -> {the n values of a sweep's " ..
                 "range}: ms_range_check, ms_range_value; or nil, msg, code",
  sweep_new = "(obj, rule, x0 vec, xstar vec of x0's size|nil, fstar|nil) -> sweep of copies " ..
              "of rule, or nil, msg, code; keeps obj and the rule's schedules with the sweep",
  sweep_grid = "(sw, name, values vec) | (sw, name, from, to, n integer, log) | (sw, names " ..
               "{strings}, values vec of count x #names, row-major, count integer in [1, 2^30]) " ..
               "-> true: ms_sweep_axis, _range, _points; or nil, msg, code",
  sweep_run = "(sw, steps|nil, measures (MS_MEASURE_* bits), tol|nil, threads, shard (0-based), " ..
              "shards integers, fast, progress|nil) -> true, or nil, msg, code; " ..
              "progress(done, total, seconds) on the calling thread; Ctrl-C stops it",
  sweep_data = "(sw [, c integer]) -> total, first (1-based), count, fast, threads, seconds; " ..
               "with c the new vec of ms_sweep_column(c - 1) (axes, then loss, rate, steps, " ..
               "diverged), nothing for another c; nothing once closed",

  server_new = "(max_body integer in [0, 2^30]) -> server, port, token: an HTTP server on " ..
               "127.0.0.1 (ms_server_new) whose requests must carry the token and bodies of " ..
               "at most max_body bytes, or nil, msg, code",
  server_next = "(srv, timeout_ms integer in [-1, 2^31 - 1], -1: no limit) -> id, method, " ..
                "path (after the token), body of the next request; false when the time is " ..
                "up; nil, msg, code when closed.  The server runs only in this call; Ctrl-C " ..
                "ends it",
  server_reply = "(srv, id, status integers, content_type string, body string) -> true, or " ..
                 "nil, msg, code (no request id awaits an answer, closed)",

  -- native methods of the kinds: "kind:method" = contract
  ["rng:seed"] = "(seed integer) -> self",
  ["rng:next"] = "() -> the next 64 raw bits: integer (5.4), int64_t cdata (LuaJIT)",
  ["rng:uniform"] = "() -> number in [0, 1)",
  ["rng:normal"] = "() -> number, standard normal",
  ["rng:below"] = "(n integer >= 1) -> integer in [0, n), unbiased",

  -- vec methods: live self (writable for the in-place ones, which return
  -- self); vector arguments live and of self's length; numbers may be
  -- numeric strings.  Metamethods: v[i], v[i] = x, #v, == (false for a
  -- non-vector), + - * / (vec or number operands, a new vec), unary -.
  ["vec:fill"] = "(a number) -> self, every entry a",
  ["vec:copy"] = "(x vec) -> self = x",
  ["vec:scale"] = "(a number) -> self *= a",
  ["vec:axpy"] = "(a number, x vec) -> self += a x",
  ["vec:axpby"] = "(a number, x vec, b number) -> self = a x + b self",
  ["vec:add"] = "(x vec [, alpha number] | a number) -> self += alpha x, or + a",
  ["vec:sub"] = "(x vec | a number) -> self -= x",
  ["vec:mul"] = "(x vec | a number) -> self *= x, entrywise",
  ["vec:div"] = "(x vec | a number) -> self /= x, entrywise",
  ["vec:addcmul"] = "(u vec, v vec [, a number = 1]) -> self += a u v",
  ["vec:addcdiv"] = "(u vec, v vec [, a number = 1]) -> self += a u / v",
  ["vec:sqrt"] = "() -> self, entrywise square root",
  ["vec:abs"] = "() -> self, entrywise |x|",
  ["vec:sign"] = "() -> self, entrywise -1, 0 or 1",
  ["vec:neg"] = "() -> self = -self",
  ["vec:clamp"] = "([lo number = -inf [, hi number = inf]]) -> self clamped; lo <= hi",
  ["vec:dot"] = "(x vec) -> number",
  ["vec:norm"] = "() -> Euclidean norm",
  ["vec:sum"] = "() -> number",
  ["vec:mean"] = "() -> number (nan when empty)",
  ["vec:max"] = "() -> number",
  ["vec:min"] = "() -> number",
  ["vec:clone"] = "() -> a new vec, a copy",
  ["vec:totable"] = "() -> a new table of the entries",
}
