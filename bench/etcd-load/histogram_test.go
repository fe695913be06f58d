package main

import (
	"math/rand"
	"sort"
	"testing"
)

func TestSmallValuesAreExact(t *testing.T) {
	var h histogram
	for v := int64(1); v <= 100; v++ {
		h.record(v)
	}
	for _, c := range []struct {
		pct  float64
		want int64
	}{{50, 50}, {99, 99}, {100, 100}, {1, 1}} {
		if got := h.percentile(c.pct); got != c.want {
			t.Errorf("p%v = %d, want %d", c.pct, got, c.want)
		}
	}
}

// Percentiles of a wide random sample are never below the exact ones and within 1/128 above.
func TestPercentilesWithinOneBucketOfExact(t *testing.T) {
	var h histogram
	random := rand.New(rand.NewSource(7))
	values := make([]int64, 100000)
	for i := range values {
		values[i] = int64(random.ExpFloat64() * 2e6) // around 2 ms, tail to tens of ms
		h.record(values[i])
	}
	sort.Slice(values, func(i, j int) bool { return values[i] < values[j] })
	for _, pct := range []float64{50, 90, 99, 99.9} {
		exact := values[int(pct/100*float64(len(values)))-1]
		got := h.percentile(pct)
		if got < exact || float64(got-exact) > float64(exact)/128+1 {
			t.Errorf("p%v = %d, exact %d", pct, got, exact)
		}
	}
	if h.percentile(100) != values[len(values)-1] || h.maxValue() != values[len(values)-1] {
		t.Errorf("max %d / p100 %d, want %d", h.maxValue(), h.percentile(100), values[len(values)-1])
	}
}

func TestClampsAndMerges(t *testing.T) {
	var a, b, all histogram
	a.record(-5)
	b.record(maxTrackableNanos * 4)
	a.mergeInto(&all)
	b.mergeInto(&all)
	if all.count() != 2 || all.percentile(50) != 0 || all.percentile(100) != maxTrackableNanos {
		t.Errorf("count %d p50 %d p100 %d", all.count(), all.percentile(50), all.percentile(100))
	}
	var empty histogram
	if empty.percentile(99) != 0 {
		t.Errorf("empty p99 = %d", empty.percentile(99))
	}
}
