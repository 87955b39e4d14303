/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvbench --plot: grouped bars, one group per workload, one bar per guest
 * door x backend.  Plain stdio; the SVG needs no fonts, scripts or styles
 * from outside.  Each bar is the median of the runs and carries a <title>
 * with its value; a whisker over it spans the runs' min to max.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bench_plot.h"

#define WIDTH 900
#define HEIGHT 700
#define PLOT_L 92.0  /* plot area, left and right (SVG x) */
#define PLOT_R 836.0 /* the margin to the right holds the 1.0 line's label */
#define ZERO_BAND 22.0 /* log axis: the strip under the lowest decade where 0 sits */
#define RATIO_CAP 4.0  /* the ratio axis ends here at most; taller bars are cut */
/* A white rim around text drawn over gridlines and the 1.0 line */
#define HALO "stroke=\"white\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\""
#define FONT "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""

int bench_plot_add(struct bench_plot *p, const struct bench_plot_row *r)
{
	if (p->n >= BENCH_PLOT_MAX_ROWS)
		return -1;
	p->rows[p->n++] = *r;
	return 0;
}

/* ---- what to draw: workloads (groups) and door x backend (series) ---- */

struct category {
	const char *workload;
	unsigned int qd;
	double host_mbps, fio_mbps; /* < 0: no host (fio) row */
};

struct series {
	const char *door, *backend;
};

struct chart {
	const struct bench_plot *p;
	struct category cat[BENCH_PLOT_MAX_ROWS];
	struct series ser[BENCH_PLOT_MAX_ROWS];
	size_t ncat, nser;
};

/* The host's rows (our io_uring door, fio) are the baseline, not bars. */
static bool is_host(const struct bench_plot_row *r)
{
	return !r->backend || !strcmp(r->door, "host") || !strcmp(r->door, "fio");
}

/* Series order: pv before emulated, kvm before emu. */
static int series_rank(const struct series *s)
{
	int d = !strcmp(s->door, "pv") ? 0 : !strcmp(s->door, "emulated") ? 1 : 2;
	int b = !strcmp(s->backend, "kvm") ? 0 : !strcmp(s->backend, "emu") ? 1 : 2;

	return d * 3 + b;
}

static void chart_init(struct chart *c, const struct bench_plot *p)
{
	memset(c, 0, sizeof(*c));
	c->p = p;
	for (size_t i = 0; i < p->n; i++) {
		const struct bench_plot_row *r = &p->rows[i];
		size_t k;

		for (k = 0; k < c->ncat; k++)
			if (!strcmp(c->cat[k].workload, r->workload) && c->cat[k].qd == r->qd)
				break;
		if (k == c->ncat)
			c->cat[c->ncat++] = (struct category){ r->workload, r->qd, -1, -1 };
		if (is_host(r)) {
			if (!strcmp(r->door, "fio"))
				c->cat[k].fio_mbps = r->mb_per_s;
			else
				c->cat[k].host_mbps = r->mb_per_s;
			continue;
		}
		for (k = 0; k < c->nser; k++)
			if (!strcmp(c->ser[k].door, r->door) && !strcmp(c->ser[k].backend, r->backend))
				break;
		if (k == c->nser) { /* insert in rank order */
			struct series s = { r->door, r->backend };

			while (k > 0 && series_rank(&c->ser[k - 1]) > series_rank(&s)) {
				c->ser[k] = c->ser[k - 1];
				k--;
			}
			c->ser[k] = s;
			c->nser++;
		}
	}
}

/* The row of (series s) in (category k), or NULL. */
static const struct bench_plot_row *lookup(const struct chart *c, size_t s, size_t k)
{
	const struct bench_plot_row *found = NULL;

	for (size_t i = 0; i < c->p->n; i++) {
		const struct bench_plot_row *r = &c->p->rows[i];

		if (!is_host(r) && !strcmp(r->door, c->ser[s].door) && !strcmp(r->backend, c->ser[s].backend) &&
		    !strcmp(r->workload, c->cat[k].workload) && r->qd == c->cat[k].qd)
			found = r;
	}
	return found;
}

/* Panel 1 plots exits per request, panel 2 the host ratio; < 0 = none. */
static double value(const struct bench_plot_row *r, bool exits)
{
	double v;

	if (!r)
		return -1;
	v = exits ? r->exits_per_request : r->host_ratio;
	return isfinite(v) && v >= 0 ? v : -1;
}

/* The runs' range around value(r, exits) in *lo..*hi; false if there is none. */
static bool range(const struct bench_plot_row *r, bool exits, double *lo, double *hi)
{
	if (value(r, exits) < 0)
		return false;
	*lo = exits ? r->exits_min : r->ratio_min;
	*hi = exits ? r->exits_max : r->ratio_max;
	return isfinite(*lo) && isfinite(*hi) && *lo >= 0 && *lo <= *hi;
}

/* pv in blues, emulated in reds; kvm darker, emu lighter. */
static const char *series_color(const struct series *s)
{
	bool kvm = !strcmp(s->backend, "kvm");

	if (!strcmp(s->door, "pv"))
		return kvm ? "#2166ac" : "#67a9cf";
	if (!strcmp(s->door, "emulated"))
		return kvm ? "#b2182b" : "#ef8a62";
	return kvm ? "#555555" : "#aaaaaa";
}

/* Text drawn on a bar of series_color(s). */
static const char *series_ink(const struct series *s)
{
	return !strcmp(s->backend, "kvm") ? "white" : "#111111";
}

/* ---- SVG text ---- */

static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		default:
			/* XML 1.0 forbids most control characters, even escaped. */
			fputc((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' ? '?' : *s, f);
		}
	}
}

/* <text> at (x, y) with extra attributes (attrs, trusted) and escaped (s). */
static void text(FILE *f, double x, double y, const char *attrs, const char *s)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" %s>", x, y, attrs);
	put_escaped(f, s);
	fputs("</text>\n", f);
}

/* Rough width of (s) in pixels at font size (px): enough to decide fitting. */
static double text_width(const char *s, double px)
{
	return 0.6 * px * (double)strlen(s);
}

/* A short label: 524k, 1.16k, 12, 1.87, 0.0338, 0.00065. */
static void format_value(char *buf, size_t n, double v, bool exits)
{
	if (!exits)
		snprintf(buf, n, v >= 10 ? "%.0f" : v >= 0.1 || v == 0 ? "%.2f" : "%.1g", v);
	else if (v == 0)
		snprintf(buf, n, "0");
	else if (v >= 1e6)
		snprintf(buf, n, "%.3gM", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, n, "%.3gk", v / 1e3);
	else if (v >= 100)
		snprintf(buf, n, "%.0f", v);
	else if (v >= 0.01)
		snprintf(buf, n, "%.3g", v);
	else
		snprintf(buf, n, "%.2g", v);
}

/* ---- axes ---- */

struct panel {
	double top, bottom; /* plot area (SVG y) */
	bool exits;         /* exits per request on a log axis, else the host ratio */
	int lo, hi;         /* log: decades 10^lo .. 10^hi */
	double max, step;   /* linear: 0 .. max, a tick every step */
};

static double y_of(const struct panel *pn, double v)
{
	double t;

	if (!pn->exits)
		return pn->bottom - (pn->bottom - pn->top) * (v < pn->max ? v : pn->max) / pn->max;
	if (v <= 0)
		return pn->bottom;
	t = (log10(v) - pn->lo) / (pn->hi - pn->lo);
	t = t < 0 ? 0 : t > 1 ? 1 : t;
	return pn->bottom - ZERO_BAND - (pn->bottom - ZERO_BAND - pn->top) * t;
}

/* Fit the axis of (pn) to the values of (c). */
static void scale(struct panel *pn, const struct chart *c)
{
	double min = 0, max = 0;

	for (size_t s = 0; s < c->nser; s++)
		for (size_t k = 0; k < c->ncat; k++) {
			const struct bench_plot_row *r = lookup(c, s, k);
			double v = value(r, pn->exits), lo, hi;

			if (range(r, pn->exits, &lo, &hi)) {
				if (lo > 0 && (min == 0 || lo < min))
					min = lo;
				v = hi > v ? hi : v;
			}
			if (v > 0 && (min == 0 || v < min))
				min = v;
			if (v > max)
				max = v;
		}
	if (pn->exits) {
		pn->lo = min > 0 ? (int)floor(log10(min)) : 0;
		pn->hi = max > 0 ? (int)floor(log10(max)) + 1 : 1; /* headroom for labels */
		pn->lo = pn->lo < -12 ? -12 : pn->lo;
		pn->hi = pn->hi > 12 ? 12 : pn->hi;
		if (pn->hi <= pn->lo)
			pn->hi = pn->lo + 1;
	} else {
		/* 1.0 stays in the middle of things even when one ratio is 100 */
		static const double steps[] = { 0.2, 0.25, 0.5, 1 };
		double top = max * 1.15 < 1.2 ? 1.2 : max * 1.15 > RATIO_CAP ? RATIO_CAP : max * 1.15;

		pn->step = 1;
		for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
			if (top / steps[i] <= 6) {
				pn->step = steps[i];
				break;
			}
		pn->max = ceil(top / pn->step - 1e-9) * pn->step;
	}
}

/* Gridlines, tick labels and the axis line of (pn). */
static void draw_axis(FILE *f, const struct panel *pn, const char *ylabel)
{
	double mid = (pn->top + pn->bottom) / 2;

	if (pn->exits) {
		int every = (pn->hi - pn->lo + 11) / 12; /* at most ~12 labels */
		double y0 = y_of(pn, pow(10, pn->lo));

		for (int e = pn->lo; e <= pn->hi; e++) {
			double y = y_of(pn, pow(10, e));

			fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#dddddd\"/>\n",
				PLOT_L, y, PLOT_R, y);
			if ((e - pn->lo) % every)
				continue;
			/* 10 with a raised exponent; U+2212 is the minus sign */
			fprintf(f, "<text class=\"decade\" x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">10"
				   "<tspan dy=\"-5\" font-size=\"8\">%s%d</tspan></text>\n",
				PLOT_L - 6, y + 4, e < 0 ? "\xe2\x88\x92" : "", e < 0 ? -e : e);
		}
		/* 0 has no place on a log axis: it gets the strip below, across a break */
		text(f, PLOT_L - 6, pn->bottom + 4, "class=\"zero\" font-size=\"11\" text-anchor=\"end\"", "0");
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>\n", PLOT_L,
			pn->top, PLOT_L, y0 + 4);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>\n", PLOT_L,
			pn->bottom - 6, PLOT_L, pn->bottom);
		fprintf(f, "<path d=\"M%.1f %.1f l8 -3 M%.1f %.1f l8 -3\" stroke=\"#333333\"/>\n", PLOT_L - 4,
			y0 + 8, PLOT_L - 4, y0 + 12);
	} else {
		for (int i = 0; i * pn->step <= pn->max + 1e-9; i++) {
			double v = i * pn->step, y = y_of(pn, v);
			char buf[32];

			fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#dddddd\"/>\n",
				PLOT_L, y, PLOT_R, y);
			snprintf(buf, sizeof(buf), pn->step < 1 ? "%.1f" : "%.0f", v);
			text(f, PLOT_L - 6, y + 4, "class=\"tick\" font-size=\"11\" text-anchor=\"end\"", buf);
		}
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>\n", PLOT_L,
			pn->top, PLOT_L, pn->bottom);
	}
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>\n", PLOT_L, pn->bottom,
		PLOT_R, pn->bottom);
	fprintf(f, "<text x=\"0\" y=\"0\" transform=\"translate(24 %.1f) rotate(-90)\" font-size=\"12\" "
		   "text-anchor=\"middle\">",
		mid);
	put_escaped(f, ylabel);
	fputs("</text>\n", f);
}

/* The host ratio's reference: a dashed line at 1.0. */
static void draw_reference(FILE *f, const struct panel *pn)
{
	double y = y_of(pn, 1.0);

	fprintf(f, "<line class=\"ref-line\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222222\" "
		   "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n",
		PLOT_L, y, PLOT_R, y);
	text(f, PLOT_R + 6, y + 4, "class=\"ref-label\" font-size=\"11\" fill=\"#222222\"", "1.0 = host");
}

/* ---- bars ---- */

/* The workload names under the groups of a panel; host MB/s under panel 2's. */
static void draw_categories(FILE *f, const struct chart *c, const struct panel *pn, double gw)
{
	for (size_t k = 0; k < c->ncat; k++) {
		double x = PLOT_L + gw * ((double)k + 0.5);
		char buf[64];

		text(f, x, pn->bottom + 16, "class=\"workload\" font-size=\"12\" text-anchor=\"middle\"",
		     c->cat[k].workload);
		snprintf(buf, sizeof(buf), "QD%u", c->cat[k].qd);
		text(f, x, pn->bottom + 29, "font-size=\"10\" text-anchor=\"middle\" fill=\"#555555\"", buf);
		if (!pn->exits && c->cat[k].host_mbps >= 0) {
			snprintf(buf, sizeof(buf), c->cat[k].host_mbps >= 10 ? "host %.0f MB/s" : "host %.2g MB/s",
				 c->cat[k].host_mbps);
			text(f, x, pn->bottom + 41, "class=\"host-mbps\" font-size=\"9\" text-anchor=\"middle\" "
			     "fill=\"#777777\"", buf);
		}
		if (!pn->exits && c->cat[k].fio_mbps >= 0) {
			snprintf(buf, sizeof(buf), c->cat[k].fio_mbps >= 10 ? "fio %.0f MB/s" : "fio %.2g MB/s",
				 c->cat[k].fio_mbps);
			text(f, x, pn->bottom + 52, "class=\"fio-mbps\" font-size=\"9\" text-anchor=\"middle\" "
			     "fill=\"#777777\"", buf);
		}
	}
}

/*
 * A value label (s) for a bar at (x .. x+bw) whose top is (y), in a slot
 * (slot) wide: above the bar, else inside its top in (ink), else turned
 * upright above or inside it.  When nothing fits, the bar's <title> has
 * the number.
 */
static void draw_label(FILE *f, const struct panel *pn, double x, double bw, double slot, double y, const char *ink,
		       const char *s)
{
	double w = text_width(s, 9), h = pn->bottom - y, cx = x + bw / 2;
	bool above;

	if (w <= slot && y - 12 >= pn->top) {
		text(f, cx, y - 3, "class=\"value\" font-size=\"9\" text-anchor=\"middle\" fill=\"#222222\" " HALO, s);
		return;
	}
	if (w <= bw && h >= 14) {
		fprintf(f, "<text class=\"value\" x=\"%.1f\" y=\"%.1f\" font-size=\"9\" text-anchor=\"middle\" "
			   "fill=\"%s\">",
			cx, y + 11, ink);
	} else if (y - 3 - w >= pn->top || h >= w + 6) {
		above = y - 3 - w >= pn->top;
		fprintf(f, "<text class=\"value\" x=\"0\" y=\"0\" transform=\"translate(%.1f %.1f) rotate(-90)\" "
			   "font-size=\"9\" fill=\"%s\"%s>",
			cx + 3, above ? y - 3 : y + w + 3, above ? "#222222" : ink, above ? " " HALO : "");
	} else {
		return;
	}
	put_escaped(f, s);
	fputs("</text>\n", f);
}

/* The runs' range (lo .. hi) of a bar centred at (cx), (bw) wide: a line with a cap at each end. */
static void draw_whisker(FILE *f, const struct panel *pn, double cx, double bw, double lo, double hi, bool exits)
{
	double y0 = y_of(pn, lo), y1 = y_of(pn, hi), cap = bw * 0.3 < 6 ? bw * 0.3 : 6;
	char a[32], b[32];

	format_value(a, sizeof(a), lo, exits);
	format_value(b, sizeof(b), hi, exits);
	fprintf(f, "<line class=\"whisker\" x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" y2=\"%.2f\" stroke=\"#222222\" "
		   "stroke-width=\"1.2\"><title>runs from %s to %s</title></line>\n",
		cx, y0, cx, y1, a, b);
	for (int i = 0; i < 2; i++)
		fprintf(f, "<line class=\"whisker-cap\" x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" y2=\"%.2f\" "
			   "stroke=\"#222222\" stroke-width=\"1.2\"/>\n",
			cx - cap, i ? y1 : y0, cx + cap, i ? y1 : y0);
}

/* The bars of panel (pn), or (labels) their value labels: these go over lines drawn in between. */
static void draw_bars(FILE *f, const struct chart *c, const struct panel *pn, bool labels)
{
	double gw = (PLOT_R - PLOT_L) / (double)c->ncat;
	double slot = gw * 0.84 / (double)c->nser;
	double bw = slot * 0.86;

	if (!labels)
		draw_categories(f, c, pn, gw);
	for (size_t k = 0; k < c->ncat; k++) {
		for (size_t s = 0; s < c->nser; s++) {
			const struct bench_plot_row *r = lookup(c, s, k);
			const char *color = series_color(&c->ser[s]);
			const char *ink = series_ink(&c->ser[s]);
			double x = PLOT_L + gw * (double)k + gw * 0.08 + slot * (double)s + (slot - bw) / 2;
			double v = value(r, pn->exits), y = y_of(pn, v), lo = 0, hi = 0;
			char label[32], tip[160];
			bool has_range;

			if (v < 0) { /* not measured: say so where the bar would be */
				if (!labels)
					text(f, x + bw / 2, pn->bottom - 4, "class=\"na\" font-size=\"9\" "
					     "text-anchor=\"middle\" fill=\"#999999\"", "n/a");
				continue;
			}
			format_value(label, sizeof(label), v, pn->exits);
			has_range = range(r, pn->exits, &lo, &hi) && hi > lo;
			if (labels) { /* over the whisker's top */
				double top = v == 0 && pn->exits ? pn->bottom - 11 : y;

				if (has_range && y_of(pn, hi) - 2 < top)
					top = y_of(pn, hi) - 2;
				draw_label(f, pn, x, bw, slot, top, ink, label);
				continue;
			}
			snprintf(tip, sizeof(tip), "%s door, %s, %s QD%u: %s %s", c->ser[s].door, c->ser[s].backend,
				 c->cat[k].workload, c->cat[k].qd, label, pn->exits ? "exits/request" : "x host MB/s");
			if (v == 0 && pn->exits) { /* a hollow marker on the 0 strip, never a bar */
				fprintf(f, "<circle class=\"zero-value\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"white\" "
					   "stroke=\"%s\" stroke-width=\"2\"><title>",
					x + bw / 2, pn->bottom - 6, color);
				put_escaped(f, tip);
				fputs("</title></circle>\n", f);
			} else {
				bool cut = !pn->exits && v > pn->max;

				fprintf(f, "<rect class=\"bar%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
					   "fill=\"%s\"><title>",
					cut ? " cut" : "", x, y, bw, pn->bottom - y, color);
				put_escaped(f, tip);
				fputs("</title></rect>\n", f);
				if (cut) /* a white slash across the bar: it goes on past the axis */
					fprintf(f, "<path d=\"M%.1f %.1f l%.1f -6 v5 l%.1f 6 z\" fill=\"white\"/>\n", x - 1,
						y + 24, bw + 2, -bw - 2);
			}
			if (has_range)
				draw_whisker(f, pn, x + bw / 2, bw, lo, hi, pn->exits);
		}
	}
}

static void draw_legend(FILE *f, const struct chart *c, double y)
{
	double total = 0, x;
	char name[64];

	for (size_t s = 0; s < c->nser; s++) {
		snprintf(name, sizeof(name), "%s door, %s", c->ser[s].door, c->ser[s].backend);
		total += 18 + text_width(name, 12) + 22;
	}
	x = (WIDTH - total) / 2;
	for (size_t s = 0; s < c->nser; s++) {
		snprintf(name, sizeof(name), "%s door, %s", c->ser[s].door, c->ser[s].backend);
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", x, y - 10,
			series_color(&c->ser[s]));
		text(f, x + 18, y, "class=\"legend\" font-size=\"12\"", name);
		x += 18 + text_width(name, 12) + 22;
	}
}

int bench_plot_write(FILE *f, const struct bench_plot *p, const char *subtitle)
{
	static struct chart c; /* large; one plot per run */
	struct panel exits = { .top = 118, .bottom = 350, .exits = true };
	struct panel ratio = { .top = 430, .bottom = 610, .exits = false };

	chart_init(&c, p);
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" " FONT
		   ">\n",
		WIDTH, HEIGHT, WIDTH, HEIGHT);
	fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", WIDTH, HEIGHT);
	text(f, WIDTH / 2.0, 28, "class=\"title\" font-size=\"18\" font-weight=\"bold\" text-anchor=\"middle\"",
	     "pvbench --device blk: exits per request and throughput against the host");
	if (subtitle)
		text(f, WIDTH / 2.0, 47, "font-size=\"11\" text-anchor=\"middle\" fill=\"#555555\"", subtitle);
	if (!c.nser || !c.ncat) {
		text(f, WIDTH / 2.0, HEIGHT / 2.0, "font-size=\"14\" text-anchor=\"middle\"",
		     "no guest measurements (see pvbench's messages)");
	} else {
		draw_legend(f, &c, 72);

		scale(&exits, &c);
		text(f, PLOT_L, exits.top - 14, "font-size=\"13\" font-weight=\"bold\"",
		     "Exits per request (log scale; lower is better)");
		draw_axis(f, &exits, "exits / request");
		draw_bars(f, &c, &exits, false);
		draw_bars(f, &c, &exits, true);

		scale(&ratio, &c);
		text(f, PLOT_L, ratio.top - 14, "font-size=\"13\" font-weight=\"bold\"",
		     "Throughput relative to the host's io_uring on the same disk (higher is better)");
		draw_axis(f, &ratio, "guest MB/s \xc3\xb7 host MB/s");
		draw_bars(f, &c, &ratio, false);
		draw_reference(f, &ratio); /* over the bars, under their labels */
		draw_bars(f, &c, &ratio, true);

		text(f, PLOT_L, HEIGHT - 18, "font-size=\"10\" fill=\"#777777\"",
		     "Bars: the median of the runs; whiskers: their min to max.  n/a: not measured.  "
		     "A white slash: the bar runs past the axis.");
	}
	fputs("</svg>\n", f);
	return ferror(f) ? -1 : 0;
}
