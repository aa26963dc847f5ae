/*
 * cli.c -- the `momsandbox` command: Lua 5.4's stand-alone
 * interpreter with the momsandbox module preloaded as the global `ms`;
 * built with MS_CLI_LUAJIT, the same program over LuaJIT: `momsandbox-jit`,
 * whose `ms` is the FFI module (bindings/ffi/momsandbox.lua).
 *
 * It follows the `lua` program (options, the `arg` table, LUA_INIT, exit
 * status, the REPL) so that it can stand in for it anywhere, busted's
 * --lua included, and adds persistent history and completion of table
 * fields to the REPL.  As in Lua's lua.c, the whole program runs under
 * lua_pcall and every chunk under a message handler that adds a traceback.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "momsandbox.h"
#include "momsandbox_pull.h"

#ifdef MS_CLI_LUAJIT
#include "luajit_compat.h"
#else
#include "ms_lua.h"
#define MS_CLI_INTERPRETER "Lua 5.4"
#define MS_CLI_COPYRIGHT LUA_COPYRIGHT
#endif

#ifdef MS_USE_READLINE
#include <readline/history.h>
#include <readline/readline.h>
#endif

static const char *progname = "momsandbox";   /* NULL in the REPL */

/* The state the signal handlers and readline's callbacks act on. */
static lua_State *globalL;

/* lua_getglobal, lua_getfield and lua_rawgeti returning the type of what
 * they pushed, as they do from Lua 5.3 on. */
static int get_global(lua_State *L, const char *name) {
  lua_getglobal(L, name);
  return lua_type(L, -1);
}

static int get_field(lua_State *L, int idx, const char *key) {
  lua_getfield(L, idx, key);
  return lua_type(L, -1);
}

static int raw_geti(lua_State *L, int idx, int i) {
  lua_rawgeti(L, idx, i);
  return lua_type(L, -1);
}

/* Print the error on top of the stack, if status says there is one. */
static int report(lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);   /* a string but for odd cases */
    if (progname != NULL) fprintf(stderr, "%s: ", progname);
    fprintf(stderr, "%s\n", msg ? msg : "(error object is not a string)");
    lua_pop(L, 1);
  }
  return status;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: %s [options] [script [args]]\n"
          "Available options are:\n"
          "  -e stat   execute string 'stat'\n"
          "  -i        enter interactive mode after executing 'script'\n"
          "  -l mod    require library 'mod' into global 'mod'\n"
          "  -l g=mod  require library 'mod' into global 'g'\n"
          "  -v        show version information\n"
          "  -E        ignore environment variables\n"
          "  -W        turn warnings on\n"
#ifdef MS_CLI_LUAJIT
          "  -j cmd    LuaJIT's jit.* command: -jv, -jdump=+rs, -joff, ...\n"
          "  -O[opt]   LuaJIT's optimization flags and levels\n"
#endif
          "  -h        show this help (also --help)\n"
          "  --        stop handling options\n"
          "  -         stop handling options and execute stdin\n",
          progname);
}

/* Options followed by an argument, glued or next: -e stat, -l mod, and
 * under LuaJIT -j cmd. */
static int takes_argument(char option) {
#ifdef MS_CLI_LUAJIT
  if (option == 'j') return 1;
#endif
  return option == 'e' || option == 'l';
}

static void print_usage(const char *badoption) {
  int needs_arg = takes_argument(badoption[1]);
  fprintf(stderr, needs_arg ? "%s: '%s' needs an argument\n"
                            : "%s: unrecognized option '%s'\n",
          progname, badoption);
  usage(stderr);
}

/* -h, --help: what the command takes, and where to go on from there. */
static void print_help(void) {
  printf("%s %s: " MS_CLI_INTERPRETER " with the momsandbox module as the global `ms`\n"
         "(momentum methods of d2l.ai 11.6: objectives, rules, schedules, traces,\n"
         "training, theory, figures).\n\n", progname, ms_version());
  usage(stdout);
  printf("\nWithout a script it starts a REPL (line editing, history, completion).\n"
         "Try: momsandbox scripts/trace2d.lua, or in the REPL:\n"
         "  ms.trace(ms.objective.quadratic{0.2, 4}, ms.momentum{lr=0.6, beta=0.5},"
         " {x0={-5,-2}})\n"
         "In the REPL and in scripts, help() lists the topics, help(ms.momentum) or\n"
         "help \"trace\" shows one function (docs/api.md). Scripts take --help too.\n");
}

static void print_version(void) {
  printf("momsandbox %s -- %s\n", ms_version(), MS_CLI_COPYRIGHT);
  fflush(stdout);
}

/* ------------------------------------------------------------ Ctrl-C */

typedef void (*sig_handler)(int);

/* Install handler for sig and return the one it replaces, so that callers
 * restore what was there: the REPL's own handler between prompts, or an
 * inherited SIG_IGN. */
static sig_handler set_signal(int sig, sig_handler handler) {
  struct sigaction sa, old;
  sa.sa_handler = handler;
  sa.sa_flags = 0;   /* no SA_RESTART: a blocked read must return EINTR */
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, &old);
  return old.sa_handler;
}

/* Set by on_run_sigint: raise the error at the next Lua instruction,
 * where it is safe to do so. */
static void interrupt_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  ms_interrupt_clear();   /* served: the error stops the Lua code */
  luaL_error(L, "interrupted!");
}

/* SIGINT while a chunk runs.  Lua code stops through the hook; the
 * engine's C loops run no hooks, so they are asked to stop too.  A second
 * Ctrl-C kills the process, for code that polls neither. */
static void on_run_sigint(int sig) {
  int mask = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
  set_signal(sig, SIG_DFL);
  lua_sethook(globalL, interrupt_hook, mask, 1);
  ms_interrupt();
}

/* SIGINT while the REPL waits for input: drop what was typed. */
static volatile sig_atomic_t input_cancelled;

static void on_input_sigint(int sig) {
  (void)sig;
  input_cancelled = 1;
}

/* ------------------------------------------------------ running code */

/* Message handler: turn any error object into a message with a traceback
 * (an object with __tostring keeps its own text and no traceback). */
static int l_msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)",
                          luaL_typename(L, 1));
  }
  /* An error raised in a callback of the engine carries the traceback
   * taken where it happened, which already runs down to here -- under
   * LuaJIT down to the coroutine the binding's loop runs in: the frames
   * of this thread go on from there. */
  if (strstr(msg, "\nstack traceback:\n") != NULL) {
#ifdef MS_CLI_LUAJIT
    luaL_traceback(L, L, NULL, 1);
    lua_pushstring(L, strchr(lua_tostring(L, -1), '\n'));   /* without its heading */
    lua_remove(L, -2);
    lua_concat(L, 2);
#endif
    return 1;
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Call the function below its narg arguments with the message handler
 * and Ctrl-C armed. */
static int docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, l_msghandler);
  lua_insert(L, base);
  globalL = L;
  sig_handler outer = set_signal(SIGINT, on_run_sigint);
  int status = lua_pcall(L, narg, nres, base);
  set_signal(SIGINT, outer);
  /* A Ctrl-C that came as the call returned must not hit later code; a
   * hook the user set with debug.sethook stays. */
  if (lua_gethook(L) == interrupt_hook) lua_sethook(L, NULL, 0, 0);
  ms_interrupt_clear();
  lua_remove(L, base);
  return status;
}

/* Run the chunk that loaded with this status, if it did. */
static int dochunk(lua_State *L, int status) {
  if (status == LUA_OK) status = docall(L, 0, 0);
  return report(L, status);
}

/* -l mod or -l g=mod: g = require "mod". */
static int dolibrary(lua_State *L, const char *spec) {
  const char *eq = strchr(spec, '=');
  lua_pushlstring(L, spec, eq != NULL ? (size_t)(eq - spec) : strlen(spec));
  lua_getglobal(L, "require");
  lua_pushstring(L, eq != NULL ? eq + 1 : spec);
  int status = docall(L, 1, 1);
  if (status == LUA_OK) lua_setglobal(L, lua_tostring(L, -2));
  report(L, status);
  lua_pop(L, 1);   /* the global's name */
  return status;
}

/* LUA_INIT_5_4, else LUA_INIT: a chunk, or @file. */
static int handle_luainit(lua_State *L) {
  const char *name = "=LUA_INIT" LUA_VERSUFFIX;
  const char *init = getenv(name + 1);
  if (init == NULL) {
    name = "=LUA_INIT";
    init = getenv(name + 1);
  }
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return dochunk(L, luaL_loadfile(L, init + 1));
  return dochunk(L, luaL_loadbuffer(L, init, strlen(init), name));
}

/* Run the script argv[0] with the positive entries of `arg` as its `...`;
 * "-" is stdin unless it came after "--". */
static int handle_script(lua_State *L, char **argv) {
  const char *fname = argv[0];
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0) fname = NULL;
  int status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    if (get_global(L, "arg") != LUA_TTABLE)
      luaL_error(L, "'arg' is not a table");
    int n = (int)lua_rawlen(L, -1);
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (int i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
    lua_remove(L, -n - 1);
    status = docall(L, n, LUA_MULTRET);
  }
  return report(L, status);
}

/* ----------------------------------------------------------- options */

enum { HAS_ERROR = 1, HAS_I = 2, HAS_V = 4, HAS_E = 8, HAS_NOENV = 16,
       HAS_HELP = 32 };

/* Check the options and find the script: *script is its index, argc when
 * there is none, or the bad option's index when HAS_ERROR is returned. */
static int collect_args(int argc, char **argv, int *script) {
  int flags = 0, i;
  for (i = 1; i < argc && argv[i][0] == '-'; i++) {
    const char *opt = argv[i];
    *script = i;
    if (opt[1] == '\0') return flags;   /* "-": the script is stdin */
    if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) return HAS_HELP;
    if (takes_argument(opt[1])) {   /* an argument, glued or next */
      if (opt[1] == 'e') flags |= HAS_E;
      if (opt[2] == '\0' && (++i >= argc || argv[i][0] == '-'))
        return HAS_ERROR;
      continue;
    }
#ifdef MS_CLI_LUAJIT
    if (opt[1] == 'O') continue;   /* -O or -O<flags> */
#endif
    if (opt[2] != '\0') return HAS_ERROR;   /* the others are one letter */
    switch (opt[1]) {
      case '-': *script = i + 1; return flags;
      case 'E': flags |= HAS_NOENV; break;
      case 'W': break;
      case 'i': flags |= HAS_I | HAS_V; break;   /* as in lua, -i implies -v */
      case 'v': flags |= HAS_V; break;
      default: return HAS_ERROR;
    }
  }
  *script = i;
  return flags;
}

/* arg[0] is the script (the program when there is none), the interpreter
 * and options go below it, the script's arguments above. */
static void create_arg_table(lua_State *L, char **argv, int argc, int script) {
  if (script == argc) script = 0;
  lua_createtable(L, argc - script - 1, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

#ifdef MS_CLI_LUAJIT
/* -j cmd[=arg,...] and -O[flag,...] as luajit takes them: jit.on, .off,
 * .flush, or the module jit.<cmd>'s start(args...); jit.opt.start. */
static const char jit_option[] =
    "local option, text = ...\n"
    "local cmd, rest = text:match('^([^=]*)=?(.*)$')\n"
    "if option == 'O' then cmd, rest = 'opt', text end\n"
    "local args = {}\n"
    "for a in rest:gmatch('[^,]+') do args[#args + 1] = a end\n"
    "if type(jit[cmd]) == 'function' then return jit[cmd](unpack(args)) end\n"
    "local m = cmd == 'opt' and jit.opt or require('jit.' .. cmd)\n"
    "return m.start(unpack(args))\n";

static int dojit(lua_State *L, char option, const char *text) {
  int status = luaL_loadbuffer(L, jit_option, sizeof jit_option - 1, "=(command line)");
  if (status == LUA_OK) {
    lua_pushlstring(L, &option, 1);
    lua_pushstring(L, text);
    status = docall(L, 2, 0);
  }
  return report(L, status);
}
#endif

/* -e, -l and -W (and -j, -O), in command-line order, up to the script. */
static int run_args(lua_State *L, char **argv, int optlim) {
  for (int i = 1; i < optlim; i++) {
    char option = argv[i][1];
#ifdef MS_CLI_LUAJIT
    if (option == 'j' || option == 'O') {
      const char *text = argv[i][2] != '\0' || option == 'O' ? argv[i] + 2 : argv[++i];
      if (dojit(L, option, text) != LUA_OK) return 0;
      continue;
    }
#endif
    if (option == 'e' || option == 'l') {
      const char *extra = argv[i][2] != '\0' ? argv[i] + 2 : argv[++i];
      int status = option == 'l' ? dolibrary(L, extra)
                   : dochunk(L, luaL_loadbuffer(L, extra, strlen(extra),
                                                "=(command line)"));
      if (status != LUA_OK) return 0;
    } else if (option == 'W') {
#ifndef MS_CLI_LUAJIT
      lua_warning(L, "@on", 0);   /* LuaJIT has no warnings */
#endif
    }
  }
  return 1;
}

/* -------------------------------------------------------- line input */

/* What reading a line gave; loadline passes EOF and CANCEL on, so they
 * stay clear of Lua's status codes. */
enum { LINE_OK = 0, LINE_EOF = -1, LINE_CANCEL = -2 };

#ifdef MS_USE_READLINE
enum { HISTORY_MAX = 1000 };
static int use_readline;          /* only for a terminal: pipes get no echo */
static char history_path[4096];   /* "" when history is not kept */

/* readline's own getc loops on EINTR, so Ctrl-C could not end the line:
 * this one turns it into "^C" and Enter, and the caller drops the line. */
static int getc_or_cancel(FILE *in) {
  unsigned char c;
  while (!input_cancelled) {
    ssize_t n = read(fileno(in), &c, 1);
    if (n == 1) return c;
    if (n == 0 || errno != EINTR) return EOF;
  }
  rl_echo_signal_char(SIGINT);
  return '\n';
}

#define NAME_CHARS \
  "_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

/* Append "prefix.key" to the matches at 2 for each key of the table at 3
 * that is a name starting with word; text up to word is the prefix. */
static void add_matches(lua_State *L, const char *text, const char *word) {
  size_t wlen = strlen(word), klen;
  for (lua_pushnil(L); lua_next(L, 3); lua_pop(L, 1)) {
    if (lua_type(L, -2) != LUA_TSTRING) continue;
    const char *key = lua_tolstring(L, -2, &klen);
    if (klen == 0 || strncmp(key, word, wlen) != 0 ||
        isdigit((unsigned char)key[0]) || strspn(key, NAME_CHARS) != klen)
      continue;
    lua_pushlstring(L, text, (size_t)(word - text));
    lua_pushvalue(L, -3);
    lua_concat(L, 2);
    lua_rawseti(L, 2, (lua_Integer)lua_rawlen(L, 2) + 1);
  }
}

/* Replace the __index function at the top by the table of methods it
 * looks names up in (its first upvalue, as the module's classes have it),
 * or by nil. */
static void methods_of_index(lua_State *L) {
  if (lua_type(L, -1) != LUA_TFUNCTION || lua_getupvalue(L, -1, 1) == NULL) {
    lua_pushnil(L);
  } else if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    lua_pushnil(L);
  }
  lua_remove(L, -2);
}

#ifdef MS_CLI_LUAJIT
/* Replace the cdata at 3, an object of the module, by its table of
 * methods: LuaJIT gives every cdata the same metatable (ms.ffi.methods). */
static void cdata_methods(lua_State *L) {
  if (strcmp(luaL_typename(L, 3), "cdata") != 0) return;
  lua_getglobal(L, "ms");
  lua_getfield(L, -1, "ffi");
  lua_getfield(L, -1, "methods");
  lua_pushvalue(L, 3);
  lua_call(L, 1, 1);   /* errors end in the completion's pcall */
  lua_replace(L, 3);
  lua_pop(L, 2);
}
#endif

/* The completions of text: walk its dotted (or colon) prefix from _G,
 * then list the matching names of the last table and of the tables
 * reachable through its metatable: `methods`, the table of methods the
 * module's classes declare, else __index, a table or the methods table a
 * native __index reads (readline drops the duplicates). */
static int l_completions(lua_State *L) {
  const char *text = luaL_checkstring(L, 1);
  const char *word = text, *sep;
  lua_settop(L, 1);
  lua_newtable(L);            /* 2: the matches */
  lua_pushglobaltable(L);     /* 3: the table being walked */
  while ((sep = strpbrk(word, ".:")) != NULL) {
    lua_pushlstring(L, word, (size_t)(sep - word));
    lua_gettable(L, 3);       /* may run __index: errors end in the pcall */
    lua_replace(L, 3);
    word = sep + 1;
  }
#ifdef MS_CLI_LUAJIT
  cdata_methods(L);
#endif
  for (int depth = 0; depth < 8; depth++) {   /* bound __index cycles */
    if (lua_istable(L, 3)) add_matches(L, text, word);
    if (luaL_getmetafield(L, 3, "methods") && lua_istable(L, -1)) {
      lua_replace(L, 3);
      continue;
    }
    lua_settop(L, 3);
    if (!luaL_getmetafield(L, 3, "__index")) break;
    if (lua_type(L, -1) == LUA_TFUNCTION) methods_of_index(L);
    if (!lua_istable(L, -1)) break;
    lua_replace(L, 3);
  }
  lua_settop(L, 2);
  return 1;
}

static const char *const completions_key = "momsandbox.cli.completions";

/* readline asks for the matches one by one, state counting from 0. */
static char *completion_entry(const char *text, int state) {
  (void)text;
  char *match = NULL;
  lua_getfield(globalL, LUA_REGISTRYINDEX, completions_key);
  if (raw_geti(globalL, -1, state + 1) == LUA_TSTRING)
    match = strdup(lua_tostring(globalL, -1));
  lua_pop(globalL, 2);
  return match;
}

static char **complete(const char *text, int start, int end) {
  (void)start, (void)end;
  rl_attempted_completion_over = 1;   /* never fall back to file names */
  rl_completion_append_character = '\0';   /* "ms" may go on with "." */
  lua_pushcfunction(globalL, l_completions);
  lua_pushstring(globalL, text);
  if (lua_pcall(globalL, 1, 1, 0) != LUA_OK) {
    lua_pop(globalL, 1);
    lua_newtable(globalL);
  }
  lua_setfield(globalL, LUA_REGISTRYINDEX, completions_key);
  return rl_completion_matches(text, completion_entry);
}

/* History goes to $MOMSANDBOX_HISTORY, else ~/.momsandbox_history. */
static void init_readline(void) {
  use_readline = isatty(STDIN_FILENO);
  if (!use_readline) return;
  const char *file = getenv("MOMSANDBOX_HISTORY"), *home = getenv("HOME");
  int len = -1;
  if (file != NULL && file[0] != '\0')
    len = snprintf(history_path, sizeof history_path, "%s", file);
  else if (home != NULL && home[0] != '\0')
    len = snprintf(history_path, sizeof history_path, "%s/.momsandbox_history",
                   home);
  if (len < 0 || (size_t)len >= sizeof history_path) history_path[0] = '\0';
  rl_readline_name = "momsandbox";
  rl_catch_signals = 0;   /* SIGINT is ours; see getc_or_cancel */
  rl_getc_function = getc_or_cancel;
  rl_attempted_completion_function = complete;
  rl_basic_word_break_characters = " \t\n\"\\'><=;+-*/%^~#&|,{}()[]";
  stifle_history(HISTORY_MAX);
  if (history_path[0] != '\0') {
    read_history(history_path);
    history_truncate_file(history_path, HISTORY_MAX);
  }
}

/* Keep a line in the history, and in the file at once so that os.exit
 * loses nothing; a file that cannot be written is not an error. */
static void save_line(const char *line) {
  HIST_ENTRY *last = history_get(history_base + history_length - 1);
  if (!use_readline || (last != NULL && strcmp(last->line, line) == 0)) return;
  add_history(line);
  if (history_path[0] != '\0' && append_history(1, history_path) != 0)
    write_history(history_path);   /* the file did not exist yet */
}
#else
static void init_readline(void) {}
static void save_line(const char *line) { (void)line; }
#endif

/* Read a line: malloc'ed, NULL at end of input or on Ctrl-C. */
static char *read_line(const char *prompt) {
#ifdef MS_USE_READLINE
  if (use_readline) return readline(prompt);
#endif
  char *buf = NULL;
  size_t cap = 0;
  fputs(prompt, stdout);
  fflush(stdout);
  if (getline(&buf, &cap, stdin) >= 0) return buf;
  free(buf);
  if (input_cancelled) {   /* the terminal echoed ^C; end its line */
    clearerr(stdin);
    fputc('\n', stdout);
  }
  return NULL;
}

/* Push the next line without its newline; `=expr` means `return expr`. */
static int pushline(lua_State *L, int firstline) {
  if (get_global(L, firstline ? "_PROMPT" : "_PROMPT2") == LUA_TNIL)
    lua_pushstring(L, firstline ? "> " : ">> ");
  else
    luaL_tolstring(L, -1, NULL);
  input_cancelled = 0;
  sig_handler outer = set_signal(SIGINT, on_input_sigint);
  char *line = read_line(lua_tostring(L, -1));
  set_signal(SIGINT, outer);
  lua_pop(L, 2);   /* the prompt and the value it came from */
  if (input_cancelled || line == NULL) {
    free(line);
    return input_cancelled ? LINE_CANCEL : LINE_EOF;
  }
  size_t len = strlen(line);
  if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
  if (firstline && line[0] == '=')
    lua_pushfstring(L, "return %s", line + 1);
  else
    lua_pushlstring(L, line, len);
  free(line);
  return LINE_OK;
}

/* ------------------------------------------------------------- REPL */

/* Compile the line at 1 as "return <line>;" so that expressions print.
 * LuaJIT forgets the caller of a tail call, and with it the position of
 * its errors ("stdin:1:"): there the line is an argument instead. */
#ifdef MS_CLI_LUAJIT
#define RETURN_LINE "return (function(...) return ... end)(%s);"
#else
#define RETURN_LINE "return %s;"
#endif

static int addreturn(lua_State *L) {
  const char *line = lua_tostring(L, 1);
  const char *retline = lua_pushfstring(L, RETURN_LINE, line);
  int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
  if (status == LUA_OK) {
    lua_remove(L, -2);
    if (line[0] != '\0') save_line(line);
  } else {
    lua_pop(L, 2);
  }
  return status;
}

/* A syntax error at <eof> means the statement goes on on the next line. */
static int incomplete(lua_State *L, int status) {
  /* Lua 5.4 ends the message with <eof>, Lua 5.1 (LuaJIT) with '<eof>' */
#ifdef MS_CLI_LUAJIT
  static const char mark[] = "'<eof>'";
#else
  static const char mark[] = "<eof>";
#endif
  size_t len;
  const char *msg = lua_tolstring(L, -1, &len);
  return status == LUA_ERRSYNTAX && len >= sizeof mark - 1 &&
         strcmp(msg + len - (sizeof mark - 1), mark) == 0;
}

/* Compile the chunk at 1 as a statement, reading continuation lines while
 * it is incomplete. */
static int multiline(lua_State *L) {
  for (;;) {
    size_t len;
    const char *chunk = lua_tolstring(L, 1, &len);
    int status = luaL_loadbuffer(L, chunk, len, "=stdin");
    /* complete, or no more input: done either way */
    int more = incomplete(L, status) ? pushline(L, 0) : LINE_EOF;
    if (more == LINE_CANCEL) return LINE_CANCEL;
    if (more == LINE_EOF) {
      save_line(chunk);
      return status;
    }
    lua_remove(L, -2);   /* the "<eof>" error */
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
}

/* Read and compile one statement: a Lua status with the function or the
 * error on top, or LINE_EOF or LINE_CANCEL with nothing to run. */
static int loadline(lua_State *L) {
  lua_settop(L, 0);
  int status = pushline(L, 1);
  if (status != LINE_OK) return status;
  status = addreturn(L);
  if (status != LUA_OK) status = multiline(L);
  lua_remove(L, 1);
  return status;
}

/* Print the results on the stack as lua does, but drawn for a person
 * (momsandbox.show: tables with their contents, long ones and vectors
 * elided). */
static void print_results(lua_State *L) {
  int n = lua_gettop(L);
  if (n == 0) return;
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
  lua_getglobal(L, "require");
  lua_pushliteral(L, "momsandbox.show");
  if (lua_pcall(L, 1, 1, 0) == LUA_OK && get_field(L, -1, "print") == LUA_TFUNCTION) {
    lua_remove(L, -2);
  } else {   /* the module is gone: the global print will do */
    lua_settop(L, n);
    lua_getglobal(L, "print");
  }
  lua_insert(L, 1);
  if (lua_pcall(L, n, 0, 0) != LUA_OK) {
    lua_pushfstring(L, "error calling 'print' (%s)", lua_tostring(L, -1));
    report(L, LUA_ERRRUN);
  }
}

/* Load the parts of ms that load on first use (ms.plot, ms.args, ...:
 * the keys of its metatable's `parts`), so that completion finds their
 * names before the user has touched them; a part that fails to load is
 * simply left for later. */
static int l_load_parts(lua_State *L) {
  lua_settop(L, 0);
  lua_getglobal(L, "ms");   /* 1 */
  if (!luaL_getmetafield(L, 1, "parts") || !lua_istable(L, 2)) return 0;
  for (lua_pushnil(L); lua_next(L, 2); lua_pop(L, 1)) {
    lua_pushvalue(L, -2);
    lua_gettable(L, 1);
    lua_pop(L, 1);
  }
  return 0;
}

static void doREPL(lua_State *L) {
  const char *saved = progname;
  progname = NULL;   /* errors at the prompt need no program name */
  globalL = L;
  init_readline();
  lua_pushcfunction(L, l_load_parts);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) lua_pop(L, 1);
  printf("ms.* is loaded; try: ms.trace(ms.objective.quadratic{0.2, 4}, "
         "ms.momentum{lr=0.6, beta=0.5}, {x0={-5,-2}})\n"
         "help() lists the topics; help(ms.momentum) or help \"trace\" explains one\n");
  /* Between prompts too (while a line compiles, say) Ctrl-C must not
   * end the session; there it is simply dropped. */
  sig_handler outer = set_signal(SIGINT, on_input_sigint);
  int status;
  while ((status = loadline(L)) != LINE_EOF) {
    if (status == LINE_CANCEL) continue;
    if (status == LUA_OK) status = docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK)
      print_results(L);
    else
      report(L, status);
  }
  set_signal(SIGINT, outer);
  lua_settop(L, 0);
  fputc('\n', stdout);
  fflush(stdout);
  progname = saved;
}

/* ------------------------------------------------------------- main */

/* The module, already required as `ms`, and its help as `help`.  Lua
 * 5.4: the C module linked in, preloaded for require.  LuaJIT: the FFI
 * module of this source tree, on package.path, and this build's engine
 * library unless MOMSANDBOX_LIB names another. */
static void open_momsandbox(lua_State *L) {
#ifdef MS_CLI_LUAJIT
  const char *lib = getenv("MOMSANDBOX_LIB");
  if (lib == NULL || lib[0] == '\0') setenv("MOMSANDBOX_LIB", MS_FFI_LIB, 1);
  lua_getglobal(L, "package");
  lua_pushliteral(L, MS_FFI_DIR "/?.lua;");
  lua_getfield(L, -2, "path");
  lua_concat(L, 2);
  lua_setfield(L, -2, "path");
  lua_pop(L, 1);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "momsandbox");
  lua_call(L, 1, 1);
#else
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_momsandbox);
  lua_setfield(L, -2, "momsandbox");
  lua_pop(L, 1);
  luaL_requiref(L, "momsandbox", luaopen_momsandbox, 0);
#endif
  lua_getfield(L, -1, "help");
  lua_setglobal(L, "help");
  lua_setglobal(L, "ms");
}

static int l_main(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = lua_touserdata(L, 2);
  int script = argc;
  if (argv[0][0] != '\0') progname = argv[0];
  int flags = collect_args(argc, argv, &script);
  luaL_checkversion(L);
  if (flags == HAS_ERROR) {
    print_usage(argv[script]);
    return 0;
  }
  if (flags == HAS_HELP) {
    print_help();
    lua_pushboolean(L, 1);
    return 1;
  }
  if (flags & HAS_V) print_version();
  if (flags & HAS_NOENV) {   /* tells package to ignore LUA_PATH/LUA_CPATH */
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  open_momsandbox(L);
  create_arg_table(L, argv, argc, script);
#ifndef MS_CLI_LUAJIT
  lua_gc(L, LUA_GCGEN, 0, 0);
#endif
  if (!(flags & HAS_NOENV) && handle_luainit(L) != LUA_OK) return 0;
  if (!run_args(L, argv, script)) return 0;
  if (script < argc && handle_script(L, argv + script) != LUA_OK) return 0;
  if (flags & HAS_I) {
    doREPL(L);
  } else if (script == argc && !(flags & (HAS_E | HAS_V))) {
    if (isatty(STDIN_FILENO)) {
      print_version();
      doREPL(L);
    } else if (dochunk(L, luaL_loadfile(L, NULL)) != LUA_OK) {
      return 0;   /* lua 5.4.4 exits with 0 here; a failure must show */
    }
  }
  lua_pushboolean(L, 1);
  return 1;
}

int main(int argc, char **argv) {
  static char *no_args[] = {"momsandbox", NULL};
  if (argc < 1) {   /* exec'd with an empty argv */
    argc = 1;
    argv = no_args;
  }
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, "%s: cannot create state: not enough memory\n", argv[0]);
    return EXIT_FAILURE;
  }
  lua_pushcfunction(L, l_main);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  int status = lua_pcall(L, 2, 1, 0);
  int ok = lua_toboolean(L, -1);
  report(L, status);
  lua_close(L);
  return ok && status == LUA_OK ? EXIT_SUCCESS : EXIT_FAILURE;
}
