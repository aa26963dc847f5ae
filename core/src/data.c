/*
 * data.c -- data sets: text files of numbers (tab-, space- or
 * comma-separated), tables built in memory, and d2l's synthetic linear
 * regression data; standardisation as d2l's get_data_ch11.
 *
 * The parser reads the whole file into one NUL-terminated buffer and
 * converts each cell in place with strtod (in the "C" locale, whatever the
 * program's): a cell ends at a blank, comma, '#' or line end, none of
 * which a number can contain, so strtod stopping exactly at the cell's end
 * means the cell is a number.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

void ms_data_opts_init(ms_data_opts *opts) {
  if (opts == NULL) return;
  opts->header = 0;
  opts->label = -1;
  opts->label_name = NULL;
  opts->standardize = 0;
  opts->rows = 0;
  opts->max_bytes = MS_DATA_MAX_BYTES;
}

void ms_data_free(ms_data *data) {
  if (data == NULL) return;
  if (data->names != NULL)
    for (size_t j = 0; j <= data->d; j++) free(data->names[j]);
  free(data->names);
  free(data->scale);
  ms_big_free(data->x, data->n * data->d * sizeof(double));
  ms_big_free(data->y, data->n * sizeof(double));
  free(data);
}

/* An empty data set of n examples of d features (zero-filled). */
static ms_status data_new(size_t n, size_t d, ms_data **out) {
  *out = NULL;
  if (n == 0) return ms_fail(MS_EINVAL, "a data set needs at least one example");
  if (d == 0) return ms_fail(MS_EINVAL, "a data set needs at least one feature");
  size_t cells, bytes;   /* n x d doubles: a product that must not wrap */
  if (!ms_size_mul(n, d, &cells) || !ms_size_mul(cells, sizeof(double), &bytes))
    return ms_fail(MS_ERANGE, "a data set of %zu examples of %zu features is "
                              "too large", n, d);
  ms_data *data = ms_calloc(1, sizeof *data);
  if (data != NULL) {
    data->n = n;
    data->d = d;
    data->x = ms_big_alloc(bytes);
    data->y = ms_big_alloc(n * sizeof(double));   /* n <= bytes / 8 */
  }
  if (data == NULL || data->x == NULL || data->y == NULL) {
    ms_data_free(data);
    return ms_fail(MS_ENOMEM, "out of memory for %zu examples of %zu features",
                   n, d);
  }
  *out = data;
  return MS_OK;
}

ms_status ms_data_new(const double *X, const double *y, size_t n, size_t d,
                      ms_data **out) {
  MS_NEED(out);
  *out = NULL;
  MS_NEED(X);
  MS_NEED(y);
  ms_status st = data_new(n, d, out);
  if (st != MS_OK) return st;
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < d; j++)
      if (!isfinite(X[i * d + j])) {
        ms_data_free(*out);
        *out = NULL;
        return ms_fail(MS_EINVAL, "X[%zu][%zu] is not finite", i + 1, j + 1);
      }
    if (!isfinite(y[i])) {
      ms_data_free(*out);
      *out = NULL;
      return ms_fail(MS_EINVAL, "y[%zu] is not finite", i + 1);
    }
  }
  ms_vec_copy((*out)->x, X, n * d);
  ms_vec_copy((*out)->y, y, n);
  return MS_OK;
}

ms_status ms_data_synthetic(const double *w, size_t d, double b, double noise,
                            size_t n, uint64_t seed, ms_data **out) {
  MS_NEED(out);
  *out = NULL;
  MS_NEED(w);
  for (size_t j = 0; j < d; j++)
    if (!isfinite(w[j]))
      return ms_fail(MS_EINVAL, "w[%zu] is not finite", j + 1);
  if (!isfinite(b)) return ms_fail(MS_EINVAL, "b is not finite");
  if (!(noise >= 0) || !isfinite(noise))
    return ms_fail(MS_EINVAL, "noise must be a finite number >= 0");
  ms_status st = data_new(n, d, out);
  if (st != MS_OK) return st;
  ms_rng rng;
  ms_rng_seed(&rng, seed);
  for (size_t i = 0; i < n; i++) {
    double *x = (*out)->x + i * d;
    double z = 0;
    for (size_t j = 0; j < d; j++) {
      x[j] = ms_rng_normal(&rng);
      z += x[j] * w[j];
    }
    (*out)->y[i] = z + b + noise * ms_rng_normal(&rng);
  }
  return MS_OK;
}

/* A NULL data set reads as an empty one. */
size_t ms_data_len(const ms_data *data) { return data ? data->n : 0; }
size_t ms_data_features(const ms_data *data) { return data ? data->d : 0; }

const double *ms_data_row(const ms_data *data, size_t i) {
  return data != NULL && i < data->n ? data->x + i * data->d : NULL;
}

double ms_data_label(const ms_data *data, size_t i) {
  return data != NULL && i < data->n ? data->y[i] : NAN;
}

int ms_data_scaling(const ms_data *data, size_t j, double *mean,
                    double *std) {
  if (data == NULL || data->scale == NULL || j > data->d) return 0;
  if (mean != NULL) *mean = data->scale[j];
  if (std != NULL) *std = data->scale[data->d + 1 + j];
  return 1;
}

const char *ms_data_name(const ms_data *data, size_t j) {
  return data != NULL && data->names != NULL && j <= data->d ? data->names[j]
                                                              : NULL;
}

/* ------------------------------------------------------------- parsing */

/* Where data sets the examples use come from, for a file that is missing. */
static const struct {
  const char *file, *source;
} known_sets[] = {
    {"airfoil_self_noise.dat",
     "the \"Airfoil Self-Noise\" data set of the UCI Machine Learning "
     "Repository (https://archive.ics.uci.edu/dataset/291/"
     "airfoil+self+noise), used by d2l's chapter 11"},
};

typedef struct parser {
  const char *name;      /* the file, for messages */
  const char *p, *end;   /* the rest of the text; *end == '\0' */
  const char *line;      /* start of the current line */
  long long lineno;      /* its number, from 1 */
  int sep;               /* ',' or ' ' (runs of blanks); 0: not yet known */
  int want_header;       /* the next non-empty line is the header */
  size_t ncols;          /* cells per line; 0 until the first line */
  long long first;       /* the line that set ncols */
  double *vals;          /* the cells of all rows, row after row */
  size_t nvals, cap;
  char **names;          /* ncols names from the header, or NULL */
} parser;

static int blank(char c) {
  return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

/* A printable excerpt of a cell for messages: quoted, at most 24 bytes of
 * it, bytes that are not printable ASCII escaped as \xHH. */
static void excerpt(char *buf, size_t size, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  size_t k = 0, i;
  buf[k++] = '\'';
  for (i = 0; i < len && i < 24 && k + 6 < size; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      buf[k++] = (char)c;
    } else {
      buf[k++] = '\\';
      buf[k++] = 'x';
      buf[k++] = hex[c >> 4];
      buf[k++] = hex[c & 15];
    }
  }
  if (i < len && k + 4 < size) {
    memcpy(buf + k, "...", 3);
    k += 3;
  }
  buf[k++] = '\'';
  buf[k] = '\0';
}

/* An MS_EPARSE failure at the column of s on the current line. */
static ms_status parse_error(const parser *ps, const char *s, const char *what) {
  return ms_fail(MS_EPARSE, "%s:%lld:%lld: %s", ps->name, ps->lineno,
                 (long long)(s - ps->line) + 1, what);
}

static ms_status bad_cell(const parser *ps, const char *s, size_t len,
                          const char *why) {
  char cell[128], msg[256];
  excerpt(cell, sizeof cell, s, len);
  int first_row = ps->ncols == 0 && ps->names == NULL;
  snprintf(msg, sizeof msg, "%s %s%s", cell, why,
           first_row && strcmp(why, "is not a number") == 0
               ? " (if the first line names the columns, load with "
                 "header = true)"
               : "");
  return parse_error(ps, s, msg);
}

static ms_status push_value(parser *ps, double v) {
  if (ps->nvals == ps->cap) {
    size_t cap = ps->cap ? 2 * ps->cap : 1024;
    double *vals = cap < SIZE_MAX / sizeof *vals
                       ? realloc(ps->vals, cap * sizeof *vals) : NULL;
    if (vals == NULL) return ms_fail(MS_ENOMEM, "out of memory reading %s", ps->name);
    ps->vals = vals;
    ps->cap = cap;
  }
  ps->vals[ps->nvals++] = v;
  return MS_OK;
}

static ms_status number(parser *ps, const char *s, size_t len) {
  if (len == 0) return parse_error(ps, s, "empty cell");
  char *stop;
  errno = 0;
  double v = strtod(s, &stop);
  if (stop != s + len) return bad_cell(ps, s, len, "is not a number");
  if (!isfinite(v))
    return bad_cell(ps, s, len, errno == ERANGE ? "is out of range"
                                                : "is not a finite number");
  return push_value(ps, v);
}

/* A header cell: the name, without the quotes of a quoted CSV field. */
static ms_status name(parser *ps, size_t k, const char *s, size_t len) {
  if (len >= 2 && s[0] == '"' && s[len - 1] == '"') s++, len -= 2;
  char *copy = malloc(len + 1);
  if (copy == NULL) return ms_fail(MS_ENOMEM, "out of memory reading %s", ps->name);
  memcpy(copy, s, len);
  copy[len] = '\0';
  ps->names[k] = copy;
  return MS_OK;
}

/* The next cell of the line [*s, e): its start and length; 0 when the
 * line has no more.  Blank-separated cells are runs of non-blanks; comma-
 * separated ones are what lies between commas, trimmed of blanks. */
static int next_cell(const parser *ps, const char **s, const char *e,
                     const char **cell, size_t *len, int *more) {
  const char *q = *s;
  if (ps->sep == ' ') {
    while (q < e && blank(*q)) q++;
    if (q == e) return 0;
    *cell = q;
    while (q < e && !blank(*q)) q++;
    *len = (size_t)(q - *cell);
    *s = q;
    return 1;
  }
  if (!*more) return 0;
  const char *comma = memchr(q, ',', (size_t)(e - q));
  const char *stop = comma != NULL ? comma : e;
  while (q < stop && blank(*q)) q++;
  const char *last = stop;
  while (last > q && blank(last[-1])) last--;
  *cell = q;
  *len = (size_t)(last - q);
  *more = comma != NULL;
  *s = comma != NULL ? comma + 1 : e;
  return 1;
}

/* The cells of one non-empty line [s, e): the header's names, or numbers. */
static ms_status parse_line(parser *ps, const char *s, const char *e) {
  if (ps->sep == 0) ps->sep = memchr(s, ',', (size_t)(e - s)) ? ',' : ' ';
  int header = ps->want_header;
  ps->want_header = 0;
  /* room for every cell and a NULL after the last */
  size_t room = (size_t)(e - s) + 2;
  if (header && (ps->names = ms_calloc(room, sizeof *ps->names)) == NULL)
    return ms_fail(MS_ENOMEM, "out of memory reading %s", ps->name);
  size_t k = 0, len;
  const char *cell;
  int more = 1;
  ms_status st = MS_OK;
  while (st == MS_OK && next_cell(ps, &s, e, &cell, &len, &more)) {
    if (ps->ncols != 0 && k == ps->ncols) {   /* cell is one too many */
      const char *extra = cell;
      char msg[160];
      while (next_cell(ps, &s, e, &cell, &len, &more)) k++;
      snprintf(msg, sizeof msg, "%zu values, expected %zu as on line %lld",
               k + 1, ps->ncols, ps->first);
      return parse_error(ps, extra, msg);
    }
    st = header ? name(ps, k, cell, len) : number(ps, cell, len);
    k++;
  }
  if (st != MS_OK) return st;
  if (ps->ncols == 0) {
    ps->ncols = k;
    ps->first = ps->lineno;
  } else if (k < ps->ncols) {
    char msg[160];
    snprintf(msg, sizeof msg, "%zu values, expected %zu as on line %lld", k,
             ps->ncols, ps->first);
    return parse_error(ps, e, msg);
  }
  return MS_OK;
}

/* Every line of the text, lines ending in LF, CRLF or CR. */
static ms_status parse_text(parser *ps) {
  const char *p = ps->p, *end = ps->end;
  if (end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) p += 3;   /* BOM */
  for (ps->lineno = 1; p < end; ps->lineno++) {
    ps->line = p;
    const char *e = p;
    while (e < end && *e != '\n' && *e != '\r') e++;
    p = e < end ? e + 1 + (*e == '\r' && e + 1 < end && e[1] == '\n') : e;
    const char *hash = memchr(ps->line, '#', (size_t)(e - ps->line));
    if (hash != NULL) e = hash;
    const char *s = ps->line;
    while (s < e && blank(*s)) s++;
    if (s == e) continue;
    ms_status st = parse_line(ps, ps->line, e);
    if (st != MS_OK) return st;
  }
  return MS_OK;
}

/* The 0-based label column from the options. */
static ms_status label_column(const parser *ps, const ms_data_opts *o,
                              size_t *col) {
  size_t n = ps->ncols;
  if (o->label_name != NULL) {
    if (ps->names == NULL)
      return ms_fail(MS_EINVAL, "%s: a label by name ('%s') needs a header",
                     ps->name, o->label_name);
    for (size_t j = 0; j < n; j++)
      if (strcmp(ps->names[j], o->label_name) == 0) {
        *col = j;
        return MS_OK;
      }
    return ms_fail(MS_EINVAL, "%s: no column is named '%s'", ps->name,
                   o->label_name);
  }
  if (o->label == 0 || o->label > (int64_t)n || o->label < -(int64_t)n)
    return ms_fail(MS_EINVAL,
                   "%s: label = %lld, but there are %zu columns (1 .. %zu, or "
                   "-1 for the last)", ps->name, (long long)o->label, n, n);
  *col = o->label > 0 ? (size_t)o->label - 1 : n - (size_t)(-o->label);
  return MS_OK;
}

/* Standardise column j of the rows x rows table v (ncols wide) in place;
 * the mean and population std go to *mean and *std. */
static ms_status standardize(const parser *ps, double *v, size_t rows,
                             size_t j, double *mean, double *std) {
  size_t w = ps->ncols;
  int constant = 1;
  double sum = 0;
  for (size_t i = 0; i < rows; i++) {
    sum += v[i * w + j];
    constant &= v[i * w + j] == v[j];
  }
  if (constant) {
    char label[96] = "";
    if (ps->names != NULL)
      snprintf(label, sizeof label, " ('%.80s')", ps->names[j]);
    return ms_fail(MS_EINVAL,
                   "%s: column %zu%s is constant (every value is %g): it has "
                   "no spread to standardise by; drop it or load without "
                   "standardize", ps->name, j + 1, label, v[j]);
  }
  double m = sum / (double)rows, ss = 0;
  for (size_t i = 0; i < rows; i++) {
    double dev = v[i * w + j] - m;
    ss += dev * dev;
  }
  double s = sqrt(ss / (double)rows);
  /* Sums that overflow, or squares that underflow, leave no usable scale:
   * then the column cannot be standardised in doubles. */
  if (!isfinite(m) || !isfinite(s) || !(s > 0))
    return ms_fail(MS_EINVAL,
                   "%s: column %zu cannot be standardised in double precision "
                   "(its values are too large or too close together)",
                   ps->name, j + 1);
  for (size_t i = 0; i < rows; i++) v[i * w + j] = (v[i * w + j] - m) / s;
  *mean = m;
  *std = s;
  return MS_OK;
}

/* The data set of the parsed table: standardise, keep the first rows,
 * split off the label. */
static ms_status build(parser *ps, const ms_data_opts *o, ms_data **out) {
  size_t w = ps->ncols, total = w ? ps->nvals / w : 0, col = 0;
  if (total == 0)
    return ms_fail(MS_EPARSE, "%s: no data (%s)", ps->name,
                   ps->names != NULL ? "only a header" : "the file is empty");
  if (w < 2)
    return ms_fail(MS_EPARSE,
                   "%s: one column only; a data set needs at least one "
                   "feature and a label", ps->name);
  ms_status st = label_column(ps, o, &col);
  if (st != MS_OK) return st;
  if (o->rows < 0)
    return ms_fail(MS_EINVAL, "rows must be >= 0 (0: all), got %lld",
                   (long long)o->rows);
  if ((uint64_t)o->rows > total)
    return ms_fail(MS_EINVAL, "rows = %lld, but %s has only %zu examples",
                   (long long)o->rows, ps->name, total);
  size_t n = o->rows > 0 ? (size_t)o->rows : total, d = w - 1;
  if ((st = data_new(n, d, out)) != MS_OK) return st;
  ms_data *data = *out;
  /* Column j of the table is column map(j) of the data set: the features
   * in order, then the label. */
#define MAP(j) ((j) == col ? d : (j) < col ? (j) : (j) - 1)
  if (o->standardize) {
    if ((data->scale = ms_calloc(w, 2 * sizeof(double))) == NULL)
      return ms_fail(MS_ENOMEM, "out of memory");
    for (size_t j = 0; j < w && st == MS_OK; j++)
      st = standardize(ps, ps->vals, total, j, &data->scale[MAP(j)],
                       &data->scale[w + MAP(j)]);
    if (st != MS_OK) return st;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < w; j++) {
      double v = ps->vals[i * w + j];
      if (j == col) data->y[i] = v;
      else data->x[i * d + MAP(j)] = v;
    }
  if (ps->names != NULL) {
    if ((data->names = ms_calloc(w, sizeof *data->names)) == NULL)
      return ms_fail(MS_ENOMEM, "out of memory");
    for (size_t j = 0; j < w; j++) {
      data->names[MAP(j)] = ps->names[j];
      ps->names[j] = NULL;
    }
  }
#undef MAP
  return MS_OK;
}

/* Parse the NUL-terminated text[0 .. size) in the "C" locale. */
static ms_status parse(const char *text, size_t size, const char *name,
                       const ms_data_opts *opts, ms_data **out) {
  *out = NULL;
  ms_data_opts o;
  ms_data_opts_init(&o);
  if (opts != NULL) o = *opts;
  parser ps = {.name = name, .p = text, .end = text + size,
               .want_header = o.header != 0};
  locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  locale_t old = c != (locale_t)0 ? uselocale(c) : (locale_t)0;
  ms_status st = parse_text(&ps);
  if (old != (locale_t)0) uselocale(old);
  if (c != (locale_t)0) freelocale(c);
  if (st == MS_OK) st = build(&ps, &o, out);
  for (size_t j = 0; ps.names != NULL && ps.names[j] != NULL; j++)
    free(ps.names[j]);
  free(ps.names);
  free(ps.vals);
  if (st != MS_OK) {
    ms_data_free(*out);
    *out = NULL;
  }
  return st;
}

ms_status ms_data_parse(const char *text, size_t size, const char *name,
                        const ms_data_opts *opts, ms_data **out) {
  MS_NEED(out);
  *out = NULL;
  if (text == NULL && size > 0) return ms_null(__func__, "text");
  char *copy = size < SIZE_MAX ? malloc(size + 1) : NULL;
  if (copy == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  if (size > 0) memcpy(copy, text, size);
  copy[size] = '\0';
  ms_status st = parse(copy, size, name != NULL ? name : "data", opts, out);
  free(copy);
  return st;
}

/* Why path cannot be opened, and where to get it if it is a known set. */
static ms_status open_error(const char *path, int err) {
  const char *base = strrchr(path, '/');
  base = base != NULL ? base + 1 : path;
  for (size_t i = 0; err == ENOENT && i < MS_COUNT(known_sets); i++)
    if (strcmp(base, known_sets[i].file) == 0)
      return ms_fail(MS_EIO, "cannot open %s: %s; it is %s", path,
                     strerror(err), known_sets[i].source);
  return ms_fail(MS_EIO, "cannot open %s: %s", path, strerror(err));
}

/* What kind of file mode is, for "it is a ..., not a regular file". */
static const char *file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

static ms_status not_regular(const char *path, mode_t mode) {
  return ms_fail(MS_EIO, "cannot load %s: it is %s, not a regular file",
                 path, file_kind(mode));
}

/* read(2) until count bytes or the end of the file: the number read, or
 * -1 (errno). */
static ssize_t read_all(int fd, char *buf, size_t count) {
  size_t got = 0;
  while (got < count) {
    ssize_t r = read(fd, buf + got, count - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

/* The whole of the regular file at path, NUL-terminated, into *text (its
 * size to *len).  The size is taken once, from the open descriptor; the
 * file must hold exactly that many bytes to its end. */
static ms_status read_file(const char *path, int64_t max_bytes, char **text,
                           size_t *len) {
  *text = NULL;
  *len = 0;
  /* O_NONBLOCK: opening a FIFO without a writer returns at once (and
   * fstat then refuses it); O_NOCTTY: a terminal never becomes ours. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    struct stat sb;   /* a socket cannot be opened at all: say what it is */
    if (err == ENXIO && stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
      return not_regular(path, sb.st_mode);
    return open_error(path, err);
  }
  struct stat sb;
  ms_status st = MS_OK;
  if (fstat(fd, &sb) != 0) {
    st = ms_fail(MS_EIO, "cannot read %s: %s", path, strerror(errno));
  } else if (!S_ISREG(sb.st_mode)) {
    st = not_regular(path, sb.st_mode);
  } else if ((uint64_t)sb.st_size > (uint64_t)max_bytes ||
             (uint64_t)sb.st_size >= SIZE_MAX) {
    st = ms_fail(MS_ERANGE, "cannot load %s: it has %lld bytes, more than "
                            "max_bytes = %lld%s; pass a larger max_bytes to "
                            "load it", path, (long long)sb.st_size,
                 (long long)max_bytes,
                 max_bytes == MS_DATA_MAX_BYTES ? " (the default, 1 GiB)" : "");
  }
  if (st != MS_OK) {
    close(fd);
    return st;
  }
  size_t size = (size_t)sb.st_size;
  char *buf = malloc(size + 1), extra;
  ssize_t got = buf != NULL ? read_all(fd, buf, size) : 0, more = 0;
  if (buf == NULL)
    st = ms_fail(MS_ENOMEM, "out of memory for the %zu bytes of %s", size,
                 path);
  else if (got < 0 || (more = read_all(fd, &extra, 1)) < 0)
    st = ms_fail(MS_EIO, "cannot read %s: %s", path, strerror(errno));
  else if ((size_t)got < size)
    st = ms_fail(MS_EIO, "cannot load %s: it shrank while it was read (%zu "
                         "bytes, then only %zu): load it again once it is "
                         "written", path, size, (size_t)got);
  else if (more > 0)
    st = ms_fail(MS_EIO, "cannot load %s: it grew while it was read (more "
                         "than the %zu bytes it had): load it again once it "
                         "is written", path, size);
  close(fd);
  if (st != MS_OK) {
    free(buf);
    return st;
  }
  buf[size] = '\0';
  *text = buf;
  *len = size;
  return MS_OK;
}

ms_status ms_data_load(const char *path, const ms_data_opts *opts,
                       ms_data **out) {
  MS_NEED(out);
  *out = NULL;
  MS_NEED(path);
  ms_data_opts o;
  ms_data_opts_init(&o);
  if (opts != NULL) o = *opts;
  if (o.max_bytes < 1)
    return ms_fail(MS_EINVAL, "max_bytes must be >= 1, got %lld",
                   (long long)o.max_bytes);
  char *text;
  size_t len;
  ms_status st = read_file(path, o.max_bytes, &text, &len);
  if (st != MS_OK) return st;
  st = parse(text, len, path, &o, out);
  free(text);
  return st;
}
