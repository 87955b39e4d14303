/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Promela model of the notification protocol of <pv/abi/ring.h> (one
 * direction), under x86-TSO: each side's stores go through its own FIFO
 * store buffer that drains to memory at any moment, and its loads see its
 * own buffered stores first.  Checked by tests/ring/spin_check.sh.
 *
 *   producer: write slot; (wmb: TSO keeps store order) store prod;
 *             full barrier P4; load prod_event; notify iff it lies in
 *             (old, new]      -- batches of 1 or 2 entries
 *   consumer: load prod; (rmb) read slot; store cons ... when empty:
 *             store prod_event = cons + 1; barrier S2; load prod again;
 *             sleep (read the eventfd) only if still empty; after a
 *             wake-up, disarm (store prod_event = cons) while it polls
 *
 * Indices are free-running modulo IDX (8) and start at START, so they wrap
 * during the run; the ring has SIZE slots, so it fills and wraps too.  A
 * producer that finds the ring full waits for the consumer's cons to reach
 * memory (the cons_event path is the mirror image of the one modelled).
 *
 * Knobs (spin -DNAME=0/1):
 *   PFENCE      the producer's P4 is a real fence (KVM guest or host: 1;
 *               guest under the emulation backend, fences dropped: 0)
 *   CFENCE      the consumer's S2 is a real fence (likewise)
 *   HEAVY       the consumer's S2 is membarrier(): it also drains the
 *               producer's store buffer (host consumer of an emulated guest)
 *   WAITCHECK   the sleep primitive runs a host fence and re-checks prod
 *               before blocking (monitor handling an emulated guest's sleep)
 *   DISARM      the consumer disarms its event index when it wakes
 *               (pv_ring_disarm; default 1, as libpv's pollers do)
 *   NO_RECHECK  deliberately broken: sleep right after arming, no re-check
 *   PUBLISH_EARLY  deliberately broken: publish prod before writing the
 *               entry (shows that the content assertions can fail)
 *
 * Properties: every request is consumed exactly once, in order, with the
 * content written (assertions); the consumer never sleeps forever while
 * requests are pending (a deadlock makes the watchdog's timeout assertion
 * fail: "lost_wakeup"); and, as LTL, eventually all N are consumed.
 */

#ifndef N
#define N 4
#endif
#ifndef SIZE
#define SIZE 2
#endif
#ifndef START
#define START 6
#endif
#ifndef PFENCE
#define PFENCE 1
#endif
#ifndef CFENCE
#define CFENCE 1
#endif
#ifndef HEAVY
#define HEAVY 0
#endif
#ifndef WAITCHECK
#define WAITCHECK 0
#endif
#ifndef NO_RECHECK
#define NO_RECHECK 0
#endif
#ifndef DISARM
#define DISARM 1
#endif
#ifndef NO_WATCHDOG
#define NO_WATCHDOG 0
#endif
#ifndef PUBLISH_EARLY
#define PUBLISH_EARLY 0
#endif

#define IDX 8           /* index modulus: indices are 3-bit free-running */
#define M(x) ((x) % IDX)

#define A_PROD  0
#define A_EVENT 1
#define A_CONS  2
#define A_SLOT  3       /* slots at A_SLOT .. A_SLOT + SIZE - 1 */
#define NADDR (A_SLOT + SIZE)
#define SB 4            /* store buffer depth */
#define PRODUCER 0
#define CONSUMER 1

byte mem[NADDR];
byte sb_a[2 * SB];      /* store buffers: addresses */
byte sb_v[2 * SB];      /* and values */
byte sb_n[2];           /* fill levels */
byte pending;           /* the eventfd (a kernel object: sequentially consistent) */
byte consumed[N + 1];   /* how often request i was consumed */
byte ncons;             /* requests consumed */
bool lost_wakeup;
byte notifies;

/* stores enter the buffer; a full buffer stalls the CPU */
inline store(sp, sa, sv)
{
	d_step {
		sb_n[sp] < SB;
		sb_a[sp * SB + sb_n[sp]] = sa;
		sb_v[sp * SB + sb_n[sp]] = sv;
		sb_n[sp]++
	}
}

/* loads forward from the newest buffered store to the same address */
inline load(lp, la, lr)
{
	d_step {
		k = sb_n[lp];
		hit = 0;
		do
		:: k > 0 && !hit ->
			k--;
			if
			:: sb_a[lp * SB + k] == la -> lr = sb_v[lp * SB + k]; hit = 1
			:: else -> skip
			fi
		:: else -> break
		od;
		if
		:: !hit -> lr = mem[la]
		:: else -> skip
		fi;
		k = 0;
		hit = 0
	}
}

/* a fence waits until the own buffer has drained */
inline fence(fp)
{
	sb_n[fp] == 0
}

/* write the oldest buffered store of dp to memory */
inline drain_one(dp)
{
	mem[sb_a[dp * SB]] = sb_v[dp * SB];
	k = 1;
	do
	:: k < sb_n[dp] ->
		sb_a[dp * SB + k - 1] = sb_a[dp * SB + k];
		sb_v[dp * SB + k - 1] = sb_v[dp * SB + k];
		k++
	:: else -> break
	od;
	sb_n[dp]--;
	k = 0
}

proctype drainer(byte p)
{
	byte k;
end:
	do
	:: d_step { sb_n[p] > 0 -> drain_one(p) }
	od
}

proctype producer()
{
	byte prod = START, old, ev, seq = 1, k, hit;

	do
	:: seq > N -> break
	:: else ->
		/* wait for a free slot: the consumer's cons in memory */
		(M(prod + IDX - mem[A_CONS]) < SIZE);
		old = prod;
#if PUBLISH_EARLY
		store(PRODUCER, A_PROD, M(prod + 1));
#endif
		store(PRODUCER, A_SLOT + prod % SIZE, seq);
		seq++;
		prod = M(prod + 1);
		if /* a batch of two when there is room for it */
		:: seq <= N && M(prod + IDX - mem[A_CONS]) < SIZE ->
			store(PRODUCER, A_SLOT + prod % SIZE, seq);
			seq++;
			prod = M(prod + 1)
		:: true -> skip
		fi;
		/* P2: wmb -- TSO keeps the slot stores before the index store */
		store(PRODUCER, A_PROD, prod);
#if PFENCE
		fence(PRODUCER);
#endif
		load(PRODUCER, A_EVENT, ev);
		if /* notify iff ev lies in (old, prod] */
		:: M(prod + IDX - ev) < M(prod + IDX - old) ->
			/* an eventfd write or doorbell exit is serialising */
			fence(PRODUCER);
			pending = 1;
			notifies++
		:: else -> skip
		fi
	od
}

proctype consumer()
{
	byte cons = START, p, v, k, hit;

	do
	:: ncons == N -> break
	:: else ->
		load(CONSUMER, A_PROD, p);
		if
		:: p != cons ->
			assert(M(p + IDX - cons) <= SIZE);
			/* rmb: TSO keeps the index load before the slot load */
			load(CONSUMER, A_SLOT + cons % SIZE, v);
			assert(v >= 1 && v <= N);
			assert(consumed[v] == 0);       /* never consumed twice */
			assert(v == ncons + 1);         /* in order, right content */
			consumed[v]++;
			ncons++;
			cons = M(cons + 1);
			store(CONSUMER, A_CONS, cons)
		:: else ->
			/* S1: arm */
			store(CONSUMER, A_EVENT, M(cons + 1));
#if CFENCE
			fence(CONSUMER);
#endif
#if HEAVY
			fence(CONSUMER);
			/* membarrier: the producer's CPU executes a full barrier */
			d_step {
				do
				:: sb_n[PRODUCER] > 0 -> drain_one(PRODUCER)
				:: else -> break
				od
			}
#endif
#if NO_RECHECK
			p = cons;
#else
			/* S3: check again before sleeping */
			load(CONSUMER, A_PROD, p);
#endif
			if
			:: p != cons -> skip
			:: else ->
#if WAITCHECK
				/* the monitor's sleep handler: host fence, re-check */
				fence(CONSUMER);
				load(CONSUMER, A_PROD, p);
				if
				:: p != cons -> skip
				:: else ->
sleeping:			pending > 0; pending = 0
				fi
#else
sleeping:			pending > 0; pending = 0
#endif
#if DISARM
				/* awake and polling: no notifications until re-armed */
				store(CONSUMER, A_EVENT, cons)
#endif
			fi
		fi
	od
}

/*
 * Fires only when nothing else can move: a deadlock is a lost wake-up.
 * Left out (-DNO_WATCHDOG=1) when the LTL property is checked on its own.
 */
#if !NO_WATCHDOG
active proctype watchdog()
{
end:
	timeout -> d_step { lost_wakeup = (ncons != N); assert(!lost_wakeup) }
}
#endif

init
{
	byte i;

	d_step {
		mem[A_PROD] = START;
		mem[A_CONS] = START;
		mem[A_EVENT] = M(START + 1);
		i = 0;
		do
		:: i < SIZE -> mem[A_SLOT + i] = 0; i++
		:: else -> break
		od
	}
	atomic {
		run drainer(PRODUCER);
		run drainer(CONSUMER);
		run producer();
		run consumer()
	}
}

ltl all_consumed { <> (ncons == N) }
