package main

import (
	"math/bits"
	"sync/atomic"
)

// histogram is a log-linear latency histogram in nanoseconds, in the spirit of HdrHistogram:
// values up to 255 ns are exact, larger ones fall in one of 128 equal buckets per power of two,
// so a reported value is within 1/128 (< 0.8%) of the recorded ones. A percentile reports its
// bucket's upper bound (capped at the largest recorded value), as HdrHistogram does: never under.
// Values above maxTrackableNanos are clamped to it, as bench kv clamps to its histogram's range.
// Safe for concurrent use (atomic counters; the workers share one per operation type).
type histogram struct {
	counts [buckets][subBuckets]int64
	total  int64
	max    int64
}

const (
	subBucketBits     = 8
	subBuckets        = 1 << subBucketBits
	maxTrackableNanos = int64(1) << 42 // about 73 minutes
	buckets           = 42 - subBucketBits + 2
)

// bucketOf: bucket 0 holds 0..255 exactly; bucket e >= 1 holds [2^(e+7), 2^(e+8)) in steps of 2^e
// (sub-bucket indexes 128..255).
func bucketOf(v int64) (int, int) {
	n := bits.Len64(uint64(v))
	if n <= subBucketBits {
		return 0, int(v)
	}
	shift := n - subBucketBits
	return shift, int(v >> uint(shift))
}

// upperBound is the largest value that falls in bucket (e, s).
func upperBound(e, s int) int64 {
	return (int64(s+1) << uint(e)) - 1
}

func (h *histogram) record(nanos int64) {
	if nanos < 0 {
		nanos = 0
	}
	if nanos > maxTrackableNanos {
		nanos = maxTrackableNanos
	}
	e, s := bucketOf(nanos)
	atomic.AddInt64(&h.counts[e][s], 1)
	atomic.AddInt64(&h.total, 1)
	for {
		old := atomic.LoadInt64(&h.max)
		if nanos <= old || atomic.CompareAndSwapInt64(&h.max, old, nanos) {
			return
		}
	}
}

func (h *histogram) count() int64 { return atomic.LoadInt64(&h.total) }

func (h *histogram) maxValue() int64 { return atomic.LoadInt64(&h.max) }

// mergeInto adds this histogram's counts to dst (dst must not be recorded into meanwhile).
func (h *histogram) mergeInto(dst *histogram) {
	for e := range h.counts {
		for s := range h.counts[e] {
			dst.counts[e][s] += atomic.LoadInt64(&h.counts[e][s])
		}
	}
	dst.total += h.count()
	if m := h.maxValue(); m > dst.max {
		dst.max = m
	}
}

// percentile returns the smallest bucket bound at or below which pct percent of the values
// fall (0 when empty), capped at the largest recorded value.
func (h *histogram) percentile(pct float64) int64 {
	total := h.count()
	if total == 0 {
		return 0
	}
	want := pct / 100 * float64(total)
	rank := int64(want)
	if float64(rank) < want {
		rank++
	}
	if rank < 1 {
		rank = 1
	}
	maxSeen := h.maxValue()
	var seen int64
	for e := range h.counts {
		for s := range h.counts[e] {
			seen += atomic.LoadInt64(&h.counts[e][s])
			if seen >= rank {
				if v := upperBound(e, s); v < maxSeen {
					return v
				}
				return maxSeen
			}
		}
	}
	return maxSeen
}
