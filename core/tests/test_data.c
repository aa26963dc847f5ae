/* test_data.c -- data sets: parsing text (separators, line ends, headers,
 * comments), standardisation, errors with file:line:column, tables in
 * memory, synthetic data, and the airfoil file when it is at hand. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "momsandbox.h"
#include "momsandbox_host.h"

static ms_data *parse(const char *text, const ms_data_opts *o) {
  ms_data *d = NULL;
  CHECK_OK(ms_data_parse(text, strlen(text), "t.dat", o, &d));
  return d;
}

/* The detail of a parse that must fail with status st. */
static void parse_fails(const char *text, const ms_data_opts *o,
                        ms_status st, const char *detail) {
  ms_data *d = (ms_data *)1;
  CHECK_STATUS(ms_data_parse(text, strlen(text), "t.dat", o, &d), st);
  CHECK(d == NULL);
  if (strstr(ms_last_error(), detail) == NULL) {
    fprintf(stderr, "  error '%s'\n  lacks '%s'\n", ms_last_error(), detail);
    check_failures++;
  }
}

static void test_separators(void) {
  const char *texts[] = {
      "1\t2\t3\r\n4\t5\t6\r\n",             /* tabs, CRLF (the airfoil file) */
      "1,2,3\n4,5,6",                       /* commas, no final newline */
      "  1   2 3\n\n4 \t5  6  \n",           /* runs of blanks, a blank line */
      "1 , 2,3\r4,5 ,6\r",                  /* commas with blanks, CR ends */
      "\xef\xbb\xbf# comment\n1 2 3 # end\n  # another\n4 5 6\n",
  };
  for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
    ms_data *d = parse(texts[k], NULL);
    if (d == NULL) continue;
    CHECK(ms_data_len(d) == 2 && ms_data_features(d) == 2);
    CHECK_EQ(ms_data_row(d, 0)[0], 1);
    CHECK_EQ(ms_data_row(d, 0)[1], 2);
    CHECK_EQ(ms_data_label(d, 0), 3);
    CHECK_EQ(ms_data_row(d, 1)[1], 5);
    CHECK_EQ(ms_data_label(d, 1), 6);
    CHECK(ms_data_row(d, 2) == NULL && isnan(ms_data_label(d, 2)));
    CHECK(ms_data_name(d, 0) == NULL);
    double m, s;
    CHECK(!ms_data_scaling(d, 0, &m, &s));
    ms_data_free(d);
  }
  ms_data *d = parse("1e-3 -2.5E+2 0x10 .5\n", NULL);   /* strtod's forms */
  CHECK_EQ(ms_data_row(d, 0)[0], 1e-3);
  CHECK_EQ(ms_data_row(d, 0)[1], -250);
  CHECK_EQ(ms_data_row(d, 0)[2], 16);
  CHECK_EQ(ms_data_label(d, 0), 0.5);
  ms_data_free(d);
}

static void test_header_and_label(void) {
  ms_data_opts o;
  ms_data_opts_init(&o);
  o.header = 1;
  o.label_name = "y";
  ms_data *d = parse("# made up\n\"a\",y,c\n1,2,3\n4,5,6\n", &o);
  CHECK(ms_data_len(d) == 2 && ms_data_features(d) == 2);
  CHECK_EQ(ms_data_label(d, 1), 5);
  CHECK_EQ(ms_data_row(d, 1)[0], 4);
  CHECK_EQ(ms_data_row(d, 1)[1], 6);
  CHECK(strcmp(ms_data_name(d, 0), "a") == 0);   /* quotes dropped */
  CHECK(strcmp(ms_data_name(d, 1), "c") == 0);
  CHECK(strcmp(ms_data_name(d, 2), "y") == 0);   /* the label last */
  ms_data_free(d);
  ms_data_opts_init(&o);
  o.label = 1;
  d = parse("1 2 3\n", &o);
  CHECK_EQ(ms_data_label(d, 0), 1);
  CHECK_EQ(ms_data_row(d, 0)[0], 2);
  ms_data_free(d);
  o.label = -2;
  d = parse("1 2 3\n", &o);
  CHECK_EQ(ms_data_label(d, 0), 2);
  CHECK_EQ(ms_data_row(d, 0)[1], 3);
  ms_data_free(d);
}

/* d2l: (x - mean) / std with numpy's population std over all rows, then
 * the first rows rows. */
static void test_standardize(void) {
  ms_data_opts o;
  ms_data_opts_init(&o);
  o.standardize = 1;
  o.rows = 2;
  ms_data *d = parse("1 10 0\n2 20 0\n3 30 0\n6 40 4\n", &o);
  CHECK(ms_data_len(d) == 2);
  double m, s;
  CHECK(ms_data_scaling(d, 0, &m, &s));
  CHECK_EQ(m, 3);
  CHECK_NEAR(s, sqrt(3.5), 1e-15);               /* (4 + 1 + 0 + 9) / 4 */
  CHECK(ms_data_scaling(d, 2, &m, &s));          /* the label */
  CHECK_EQ(m, 1);
  CHECK_NEAR(s, sqrt(3), 1e-15);
  CHECK(!ms_data_scaling(d, 3, &m, &s));
  CHECK_NEAR(ms_data_row(d, 0)[0], (1 - 3) / sqrt(3.5), 1e-15);
  CHECK_NEAR(ms_data_row(d, 1)[1], (20 - 25) / sqrt(125), 1e-15);
  CHECK_NEAR(ms_data_label(d, 1), -1 / sqrt(3), 1e-15);
  ms_data_free(d);
}

static void test_errors(void) {
  ms_data_opts o;
  ms_data_opts_init(&o);
  parse_fails("", NULL, MS_EPARSE, "t.dat: no data (the file is empty)");
  parse_fails("# only\n\n  \r\n", NULL, MS_EPARSE, "no data");
  parse_fails("1 2 3\n4 5\n", NULL, MS_EPARSE,
              "t.dat:2:4: 2 values, expected 3 as on line 1");
  parse_fails("1 2 3\n\n4 5 6 7 8\n", NULL, MS_EPARSE,
              "t.dat:3:7: 5 values, expected 3 as on line 1");
  parse_fails("1,2,3\n4,x5,6\n", NULL, MS_EPARSE,
              "t.dat:2:3: 'x5' is not a number");
  parse_fails("a\tb\n1\t2\n", NULL, MS_EPARSE,
              "t.dat:1:1: 'a' is not a number (if the first line names the "
              "columns, load with header = true)");
  parse_fails("1 2\n3 nan\n", NULL, MS_EPARSE,
              "t.dat:2:3: 'nan' is not a finite number");
  parse_fails("1 2\n-inf 2\n", NULL, MS_EPARSE,
              "t.dat:2:1: '-inf' is not a finite number");
  parse_fails("1 2\n1e999 2\n", NULL, MS_EPARSE,
              "t.dat:2:1: '1e999' is out of range");
  parse_fails("1,,3\n", NULL, MS_EPARSE, "t.dat:1:3: empty cell");
  parse_fails("1,2,\n", NULL, MS_EPARSE, "t.dat:1:5: empty cell");
  parse_fails("1 2\n3 4\x01\n", NULL, MS_EPARSE, "t.dat:2:3: '4\\x01' is not a number");
  parse_fails("1\n2\n", NULL, MS_EPARSE, "one column only");
  /* a NUL byte inside a cell is not the end of the text */
  ms_data *d = (ms_data *)1;
  CHECK_STATUS(ms_data_parse("1 2\n3 4\0005\n", 10, "t.dat", NULL, &d), MS_EPARSE);
  CHECK_ERROR_HAS("t.dat:2:3: '4\\x005' is not a number");
  o.standardize = 1;
  parse_fails("1 2 3\n1 4 5\n", &o, MS_EINVAL,
              "t.dat: column 1 is constant (every value is 1)");
  ms_data_opts_init(&o);
  o.header = 1;
  o.standardize = 1;
  parse_fails("u v w\n1 2 7\n3 2 5\n", &o, MS_EINVAL, "column 2 ('v') is constant");
  parse_fails("u v w\n", &o, MS_EPARSE, "no data (only a header)");
  o.header = 0;
  parse_fails("1e300 1\n-1e300 2\n", &o, MS_EINVAL,
              "t.dat: column 1 cannot be standardised in double precision");
  parse_fails("1e-200 1\n2e-200 2\n", &o, MS_EINVAL, "column 1 cannot be standardised");
  o.header = 1;
  parse_fails("u v w\n1 2\n", &o, MS_EPARSE,
              "t.dat:2:4: 2 values, expected 3 as on line 1");
  o.label_name = "z";
  parse_fails("u v w\n1 2 3\n", &o, MS_EINVAL, "no column is named 'z'");
  ms_data_opts_init(&o);
  o.label_name = "z";
  parse_fails("1 2 3\n", &o, MS_EINVAL, "a label by name ('z') needs a header");
  ms_data_opts_init(&o);
  o.rows = 3;
  parse_fails("1 2\n3 4\n", &o, MS_EINVAL, "rows = 3, but t.dat has only 2 examples");
  o.rows = -1;
  parse_fails("1 2\n3 4\n", &o, MS_EINVAL, "rows must be >= 0");
  ms_data_opts_init(&o);
  o.label = 4;
  parse_fails("1 2 3\n", &o, MS_EINVAL, "label = 4, but there are 3 columns");
  o.label = 0;
  parse_fails("1 2 3\n", &o, MS_EINVAL, "label = 0");
  o.label = -4;
  parse_fails("1 2 3\n", &o, MS_EINVAL, "label = -4");
}

static void test_files(void) {
  char dir[] = "/tmp/ms_test_data_XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[128];
  snprintf(path, sizeof path, "%s/t.csv", dir);
  CHECK_OK(ms_write_file(path, "x,y\n1,2\n3,4\n", 12));
  ms_data_opts o;
  ms_data_opts_init(&o);
  o.header = 1;
  ms_data *d = NULL;
  CHECK_OK(ms_data_load(path, &o, &d));
  CHECK(ms_data_len(d) == 2 && strcmp(ms_data_name(d, 1), "y") == 0);
  ms_data_free(d);
  CHECK_STATUS(ms_data_load(path, NULL, &d), MS_EPARSE);   /* no header */
  char err[600];
  snprintf(err, sizeof err, "%s:1:1: 'x' is not a number", path);
  CHECK_ERROR_HAS(err);
  remove(path);
  CHECK_STATUS(ms_data_load(path, NULL, &d), MS_EIO);
  CHECK_ERROR_HAS("No such file or directory");
  CHECK(strstr(ms_last_error(), "UCI") == NULL);
  snprintf(path, sizeof path, "%s/airfoil_self_noise.dat", dir);
  CHECK_STATUS(ms_data_load(path, NULL, &d), MS_EIO);
  CHECK_ERROR_HAS("No such file or directory; it is the \"Airfoil Self-Noise\" "
                  "data set of the UCI Machine Learning Repository");
  CHECK_STATUS(ms_data_load(dir, NULL, &d), MS_EIO);     /* a folder */
  CHECK_ERROR_HAS("it is a directory, not a regular file");
  CHECK(d == NULL);
  rmdir(dir);
}

/* Only regular files, read once to the size they had when opened, and no
 * larger than max_bytes: nothing blocks or reads without end. */
static void test_special_files(void) {
  alarm(60);   /* a FIFO that blocks, or /dev/zero read to the end, fails */
  char dir[] = "/tmp/ms_test_data_XXXXXX", path[128];
  CHECK(mkdtemp(dir) != NULL);
  ms_data *d = NULL;
  CHECK_STATUS(ms_data_load("/dev/zero", NULL, &d), MS_EIO);
  CHECK_ERROR_HAS("cannot load /dev/zero: it is a character device, not a "
                  "regular file");
  snprintf(path, sizeof path, "%s/fifo", dir);
  CHECK(mkfifo(path, 0600) == 0);
  CHECK_STATUS(ms_data_load(path, NULL, &d), MS_EIO);   /* no writer */
  CHECK_ERROR_HAS("it is a FIFO, not a regular file");
  remove(path);
  /* /proc files say they are empty, and hold text */
  CHECK_STATUS(ms_data_load("/proc/self/status", NULL, &d), MS_EIO);
  CHECK_ERROR_HAS("grew while it was read");

  ms_data_opts o;
  ms_data_opts_init(&o);
  CHECK(o.max_bytes == MS_DATA_MAX_BYTES && MS_DATA_MAX_BYTES == 1 << 30);
  snprintf(path, sizeof path, "%s/t.dat", dir);
  CHECK_OK(ms_write_file(path, "1 2\n3 4\n", 8));
  o.max_bytes = 7;
  CHECK_STATUS(ms_data_load(path, &o, &d), MS_ERANGE);
  CHECK_ERROR_HAS("it has 8 bytes, more than max_bytes = 7");
  o.max_bytes = 8;
  CHECK_OK(ms_data_load(path, &o, &d));
  CHECK(ms_data_len(d) == 2);
  ms_data_free(d);
  o.max_bytes = 0;
  CHECK_STATUS(ms_data_load(path, &o, &d), MS_EINVAL);
  CHECK_ERROR_HAS("max_bytes must be >= 1, got 0");
  CHECK(d == NULL);
  remove(path);
  rmdir(dir);
  alarm(0);
}

static void test_memory(void) {
  const double X[6] = {1, 2, 3, 4, 5, 6}, y[3] = {7, 8, 9};
  ms_data *d = NULL;
  CHECK_OK(ms_data_new(X, y, 3, 2, &d));
  CHECK(ms_data_len(d) == 3 && ms_data_features(d) == 2);
  CHECK_EQ(ms_data_row(d, 2)[1], 6);
  CHECK_EQ(ms_data_label(d, 2), 9);
  ms_data_free(d);
  const double bad[6] = {1, 2, 3, NAN, 5, 6};
  CHECK_STATUS(ms_data_new(bad, y, 3, 2, &d), MS_EINVAL);
  CHECK_ERROR_HAS("X[2][2] is not finite");
  CHECK_STATUS(ms_data_new(X, y, 0, 2, &d), MS_EINVAL);
  CHECK_STATUS(ms_data_new(X, y, 3, 0, &d), MS_EINVAL);
  ms_data_free(NULL);
}

/* y = w'x + b + noise, reproducible from the seed. */
static void test_synthetic(void) {
  const double w[2] = {2, -3.4};
  ms_data *a = NULL, *b = NULL, *c = NULL;
  CHECK_OK(ms_data_synthetic(w, 2, 4.2, 0, 100, 7, &a));
  CHECK_OK(ms_data_synthetic(w, 2, 4.2, 0.01, 100, 7, &b));
  CHECK_OK(ms_data_synthetic(w, 2, 4.2, 0.01, 100, 8, &c));
  double sx = 0, sxx = 0, maxnoise = 0;
  for (size_t i = 0; i < 100; i++) {
    const double *x = ms_data_row(a, i);
    CHECK_EQ(ms_data_label(a, i), x[0] * 2 + x[1] * -3.4 + 4.2);
    CHECK(memcmp(x, ms_data_row(b, i), 2 * sizeof(double)) == 0);
    maxnoise = fmax(maxnoise, fabs(ms_data_label(b, i) - ms_data_label(a, i)));
    sx += x[0];
    sxx += x[0] * x[0];
  }
  CHECK(maxnoise > 0.001 && maxnoise < 0.05);
  CHECK(fabs(sx / 100) < 0.3 && fabs(sxx / 100 - 1) < 0.4);
  CHECK(ms_data_row(c, 0)[0] != ms_data_row(b, 0)[0]);
  ms_data_free(a);
  ms_data_free(b);
  ms_data_free(c);
  CHECK_STATUS(ms_data_synthetic(w, 2, 0, -1, 10, 1, &a), MS_EINVAL);
  CHECK_STATUS(ms_data_synthetic(w, 2, NAN, 0, 10, 1, &a), MS_EINVAL);
}

/* The chapter's file as the project ships it, CRLF and all. */
static void test_airfoil(void) {
  const char *path = MS_SOURCE_DATA_DIR "/airfoil_self_noise.dat";
  ms_data *d = NULL;
  CHECK_OK(ms_data_load(path, NULL, &d));
  CHECK(ms_data_len(d) == 1503 && ms_data_features(d) == 5);
  CHECK_EQ(ms_data_row(d, 0)[0], 800);
  CHECK_EQ(ms_data_label(d, 0), 126.201);
  CHECK_EQ(ms_data_label(d, 1502), 104.204);
  ms_data_free(d);
  ms_data_opts o;
  ms_data_opts_init(&o);
  o.standardize = 1;
  o.rows = 1500;
  CHECK_OK(ms_data_load(path, &o, &d));
  CHECK(ms_data_len(d) == 1500);
  double m, s;
  CHECK(ms_data_scaling(d, 5, &m, &s));
  CHECK_NEAR(m, 124.835943, 1e-6);     /* numpy, over all 1503 rows */
  CHECK_NEAR(s, 6.896361, 1e-6);
  ms_data_free(d);
}

int main(void) {
  test_separators();
  test_header_and_label();
  test_standardize();
  test_errors();
  test_files();
  test_special_files();
  test_memory();
  test_synthetic();
  test_airfoil();
  return check_report("test_data");
}
