// etcd-load: the closed-loop KV load of `loomkv bench kv`, run against etcd through etcd's own Go
// client (clientv3), so the two can be compared as a user of each would drive them (issue 19).
//
// What matches bench kv (bench/src/main/java/io/loomkv/bench/kv): N closed-loop clients, each
// issuing its next operation as soon as the previous one returned; keys "k" + a 15-digit index
// (16 bytes), uniform over K keys; values of V random bytes drawn from a seeded pool of 16; a read
// fraction (reads are etcd's default Get, which is linearizable; the rest are Puts); every key
// written once before the run (the preload); a warm-up whose operations are run but not recorded,
// then the measured phase; an operation started before the end of the measured phase is recorded
// when it returns; a 5 s deadline per operation; workers share a client (one gRPC connection) in
// groups of 32, as bench kv's workers share a KvClient.
//
// Output: progress lines on stderr once a second (same layout as bench kv's), then a report on
// stdout in bench kv's layout (latency per operation type in us, the summary block) plus the
// client's own CPU time per operation, and, with --json, the one-line JSON summary last.
//
// Built in GOPATH mode against Debian's golang-etcd-server-dev (see bench/scripts/vs-etcd.sh).
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.etcd.io/etcd/clientv3"
)

const (
	valuePoolSize     = 16
	operationDeadline = 5 * time.Second
	maxClients        = 4096
	maxKeys           = 50000000
	maxValueBytes     = 1 << 20
)

type settings struct {
	endpoints        []string
	clients          int
	keys             int64
	valueSize        int
	readRatio        float64
	warmup           time.Duration
	duration         time.Duration
	preload          bool
	seed             int64
	workersPerClient int
	json             bool
	dialTimeout      time.Duration
}

func parseSettings() (settings, error) {
	var s settings
	endpoints := flag.String("endpoints", "127.0.0.1:2379", "etcd client endpoints, comma-separated host:port")
	flag.IntVar(&s.clients, "clients", 256, "concurrent closed-loop clients")
	flag.Int64Var(&s.keys, "keys", 10000, "key count (uniform)")
	flag.IntVar(&s.valueSize, "value-size", 4096, "value size in bytes")
	flag.Float64Var(&s.readRatio, "read-ratio", 0.5, "fraction of reads (linearizable Gets); the rest are Puts")
	flag.DurationVar(&s.warmup, "warmup", 3*time.Second, "warm-up, run but not measured")
	flag.DurationVar(&s.duration, "duration", 20*time.Second, "measured time")
	noPreload := flag.Bool("no-preload", false, "skip writing every key once before the run")
	flag.Int64Var(&s.seed, "seed", 1, "random seed")
	flag.IntVar(&s.workersPerClient, "workers-per-client", 32, "workers sharing one clientv3.Client (one gRPC connection)")
	flag.BoolVar(&s.json, "json", false, "end with the one-line JSON summary")
	flag.DurationVar(&s.dialTimeout, "dial-timeout", 5*time.Second, "how long to wait for the cluster")
	flag.Parse()
	if flag.NArg() > 0 {
		return s, fmt.Errorf("unexpected arguments: %v", flag.Args())
	}
	s.preload = !*noPreload
	for _, e := range strings.Split(*endpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			s.endpoints = append(s.endpoints, e)
		}
	}
	switch {
	case len(s.endpoints) == 0:
		return s, fmt.Errorf("--endpoints must name at least one host:port")
	case s.clients < 1 || s.clients > maxClients:
		return s, fmt.Errorf("--clients must be in 1..%d, got %d", maxClients, s.clients)
	case s.keys < 1 || s.keys > maxKeys:
		return s, fmt.Errorf("--keys must be in 1..%d, got %d", maxKeys, s.keys)
	case s.valueSize < 1 || s.valueSize > maxValueBytes:
		return s, fmt.Errorf("--value-size must be in 1..%d bytes, got %d", maxValueBytes, s.valueSize)
	case !(s.readRatio >= 0 && s.readRatio <= 1):
		return s, fmt.Errorf("--read-ratio must be in 0..1, got %v", s.readRatio)
	case s.warmup < 0 || s.warmup > 10*time.Minute:
		return s, fmt.Errorf("--warmup must be in 0s..10m, got %v", s.warmup)
	case s.duration < time.Second || s.duration > time.Hour:
		return s, fmt.Errorf("--duration must be in 1s..1h, got %v", s.duration)
	case s.workersPerClient < 1 || s.workersPerClient > maxClients:
		return s, fmt.Errorf("--workers-per-client must be in 1..%d, got %d", maxClients, s.workersPerClient)
	case s.dialTimeout <= 0 || s.dialTimeout > 10*time.Minute:
		return s, fmt.Errorf("--dial-timeout must be in (0, 10m], got %v", s.dialTimeout)
	}
	return s, nil
}

func key(index int64) string { return fmt.Sprintf("k%015d", index) }

type opType int

const (
	opRead opType = iota
	opUpdate
	opTypes
)

func (o opType) label() string { return [...]string{"read", "update"}[o] }

// errorKinds counts failures by operation type and message, for the report's top 5.
type errorKinds struct {
	mu     sync.Mutex
	counts map[string]int64
}

func (k *errorKinds) record(op opType, err error) {
	text := err.Error()
	if len(text) > 200 {
		text = text[:200]
	}
	k.mu.Lock()
	k.counts[op.label()+": "+text]++
	k.mu.Unlock()
}

func (k *errorKinds) top(n int) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	kinds := make([]string, 0, len(k.counts))
	for kind := range k.counts {
		kinds = append(kinds, kind)
	}
	sort.Slice(kinds, func(i, j int) bool { return k.counts[kinds[i]] > k.counts[kinds[j]] })
	if len(kinds) > n {
		kinds = kinds[:n]
	}
	out := make([]string, len(kinds))
	for i, kind := range kinds {
		out[i] = fmt.Sprintf("%s (%d)", kind, k.counts[kind])
	}
	return out
}

type worker struct {
	client *clientv3.Client
	s      *settings
	values []string
	random *rand.Rand
	errors *errorKinds
}

func (w *worker) nextOp() opType {
	if w.random.Float64() < w.s.readRatio {
		return opRead
	}
	return opUpdate
}

func (w *worker) value() string { return w.values[w.random.Intn(len(w.values))] }

func (w *worker) execute(op opType) bool {
	ctx, cancel := context.WithTimeout(context.Background(), operationDeadline)
	defer cancel()
	k := key(w.random.Int63n(w.s.keys))
	var err error
	if op == opRead {
		_, err = w.client.Get(ctx, k) // etcd's default Get is linearizable (a ReadIndex round)
	} else {
		_, err = w.client.Put(ctx, k, w.value())
	}
	if err != nil {
		w.errors.record(op, err)
		return false
	}
	return true
}

// cpuSeconds is this process's user and system CPU time so far (getrusage(RUSAGE_SELF)).
func cpuSeconds() (float64, float64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return float64(ru.Utime.Sec) + float64(ru.Utime.Usec)/1e6, float64(ru.Stime.Sec) + float64(ru.Stime.Usec)/1e6
}

type loop struct {
	start, measureFrom, end time.Time
	latencies               [opTypes]*histogram
	errorCounts             [opTypes]int64
	completed               int64
	completedErrors         int64
}

func (l *loop) run(w *worker) {
	for {
		intended := time.Now()
		if !intended.Before(l.end) {
			return
		}
		op := w.nextOp()
		ok := w.execute(op)
		done := time.Now()
		atomic.AddInt64(&l.completed, 1)
		if !ok {
			atomic.AddInt64(&l.completedErrors, 1)
		}
		if !intended.Before(l.measureFrom) {
			if ok {
				l.latencies[op].record(done.Sub(intended).Nanoseconds())
			} else {
				atomic.AddInt64(&l.errorCounts[op], 1)
			}
		}
	}
}

func main() {
	s, err := parseSettings()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
	os.Exit(run(&s))
}

func run(s *settings) int {
	clientCount := (s.clients + s.workersPerClient - 1) / s.workersPerClient
	clients := make([]*clientv3.Client, 0, clientCount)
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for i := 0; i < clientCount; i++ {
		c, err := clientv3.New(clientv3.Config{Endpoints: s.endpoints, DialTimeout: s.dialTimeout})
		if err != nil {
			fmt.Fprintf(os.Stderr, "error: could not reach etcd at %v: %v\n", s.endpoints, err)
			return 1
		}
		clients = append(clients, c)
	}
	fmt.Printf("etcd-load: etcd at %s through clientv3, closed loop, %d clients (%d per connection), %d keys of 16 B, values %d B, uniform keys, linearizable reads (Get), mix read %.0f%%/update %.0f%%\n",
		strings.Join(s.endpoints, ","), s.clients, s.workersPerClient, s.keys, s.valueSize, s.readRatio*100, (1-s.readRatio)*100)
	probe, cancel := context.WithTimeout(context.Background(), s.dialTimeout)
	_, err := clients[0].Get(probe, key(0))
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: could not reach etcd at %v: %v\n", s.endpoints, err)
		return 1
	}
	poolRandom := rand.New(rand.NewSource(s.seed ^ 0x5DEECE66D))
	values := make([]string, valuePoolSize)
	for i := range values {
		b := make([]byte, s.valueSize)
		poolRandom.Read(b)
		values[i] = string(b)
	}
	kinds := &errorKinds{counts: map[string]int64{}}
	workers := make([]*worker, s.clients)
	for i := range workers {
		workers[i] = &worker{client: clients[i/s.workersPerClient], s: s, values: values,
			random: rand.New(rand.NewSource(s.seed*1000003 + int64(i))), errors: kinds}
	}
	if s.preload && !preload(s, workers) {
		return 1
	}
	return measure(s, workers, kinds)
}

// preload writes every key once with all workers; false (after saying why) when nothing was written.
func preload(s *settings, workers []*worker) bool {
	var next, loaded, failed int64
	var firstError atomic.Value
	start := time.Now()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func(w *worker) {
			defer wg.Done()
			for {
				index := atomic.AddInt64(&next, 1) - 1
				if index >= s.keys {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), operationDeadline)
				_, err := w.client.Put(ctx, key(index), w.value())
				cancel()
				if err != nil {
					atomic.AddInt64(&failed, 1)
					firstError.Store(err.Error())
				} else {
					atomic.AddInt64(&loaded, 1)
				}
			}
		}(w)
	}
	wg.Wait()
	seconds := time.Since(start).Seconds()
	suffix := ""
	if e := firstError.Load(); e != nil {
		suffix = "; an error: " + e.(string)
	}
	fmt.Printf("preload: %d keys written in %.1f s (%.0f keys/s), %d failed%s\n", loaded, seconds, float64(loaded)/seconds, failed, suffix)
	if loaded == 0 {
		fmt.Fprintln(os.Stderr, "error: the preload wrote nothing"+suffix)
		return false
	}
	return true
}

func measure(s *settings, workers []*worker, kinds *errorKinds) int {
	start := time.Now()
	l := &loop{start: start, measureFrom: start.Add(s.warmup), end: start.Add(s.warmup + s.duration)}
	for i := range l.latencies {
		l.latencies[i] = &histogram{}
	}
	// The client's CPU over the measured phase: sampled when it starts and when the last worker returns.
	var cpuAtMeasureFrom [2]float64
	cpuSampled := make(chan struct{})
	go func() {
		time.Sleep(time.Until(l.measureFrom))
		cpuAtMeasureFrom[0], cpuAtMeasureFrom[1] = cpuSeconds()
		close(cpuSampled)
	}()
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go progress(l, stopProgress, progressDone)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func(w *worker) {
			defer wg.Done()
			l.run(w)
		}(w)
	}
	wg.Wait()
	finished := time.Now()
	userEnd, systemEnd := cpuSeconds()
	close(stopProgress)
	<-progressDone // so no progress line lands after the report
	<-cpuSampled
	elapsed := finished.Sub(l.measureFrom)
	report(s, l, kinds, elapsed, userEnd-cpuAtMeasureFrom[0], systemEnd-cpuAtMeasureFrom[1])
	if l.latencies[opRead].count()+l.latencies[opUpdate].count() == 0 && l.errorCounts[opRead]+l.errorCounts[opUpdate] > 0 {
		fmt.Fprintln(os.Stderr, "error: no operation succeeded in the measured phase")
		return 1
	}
	return 0
}

// progress prints one line a second on stderr, in bench kv's layout.
func progress(l *loop, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	var last int64
	for {
		select {
		case <-stop:
			return
		case now := <-ticker.C:
			completed := atomic.LoadInt64(&l.completed)
			warming := now.Before(l.measureFrom)
			phase, p99 := "run", "-"
			if warming {
				phase = "warmup"
			} else {
				var all histogram
				l.latencies[opRead].mergeInto(&all)
				l.latencies[opUpdate].mergeInto(&all)
				if all.count() > 0 {
					p99 = fmt.Sprintf("%.2f ms", float64(all.percentile(99))/1e6)
				}
			}
			fmt.Fprintf(os.Stderr, "[%4.0fs] %-7s %8d ops/s  errors %d  p99 so far %s\n", now.Sub(l.start).Seconds(), phase,
				completed-last, atomic.LoadInt64(&l.completedErrors), p99)
			last = completed
		}
	}
}

func micros(nanos int64) int64 { return nanos / 1000 }

func report(s *settings, l *loop, kinds *errorKinds, elapsed time.Duration, userSeconds, systemSeconds float64) {
	fmt.Println()
	fmt.Println("latency per operation (us)   count      p50      p90      p99    p99.9      max   errors")
	var all histogram
	var errorsTotal int64
	for op := opType(0); op < opTypes; op++ {
		h := l.latencies[op]
		errs := l.errorCounts[op]
		errorsTotal += errs
		h.mergeInto(&all)
		if h.count() == 0 && errs == 0 {
			continue
		}
		fmt.Printf("  %-26s %7d %8d %8d %8d %8d %8d %8d\n", op.label(), h.count(), micros(h.percentile(50)), micros(h.percentile(90)),
			micros(h.percentile(99)), micros(h.percentile(99.9)), micros(h.maxValue()), errs)
	}
	for _, kind := range kinds.top(5) {
		fmt.Println("  error: " + kind)
	}
	operations := all.count()
	throughput := float64(operations) / elapsed.Seconds()
	finishedOps := operations + errorsTotal
	cpuPerOp := 0.0
	if finishedOps > 0 {
		cpuPerOp = (userSeconds + systemSeconds) * 1e6 / float64(finishedOps)
	}
	fmt.Println("etcd-load (all operations, measured phase)")
	fmt.Printf("  duration      %.2f s\n", elapsed.Seconds())
	fmt.Printf("  operations    %d (errors %d)\n", operations, errorsTotal)
	fmt.Printf("  throughput    %.0f ops/s\n", throughput)
	fmt.Printf("  latency (us)  p50 %d  p90 %d  p99 %d  p99.9 %d  max %d  (count %d)\n", micros(all.percentile(50)), micros(all.percentile(90)),
		micros(all.percentile(99)), micros(all.percentile(99.9)), micros(all.maxValue()), operations)
	fmt.Printf("  client CPU    %.0f us/op (user %.2f s + system %.2f s in the measured phase, getrusage of this process)\n",
		cpuPerOp, userSeconds, systemSeconds)
	fmt.Println("  latencies: log-linear histogram, 128 buckets per power of two (values within 0.8%), bucket upper bounds")
	if s.json {
		fmt.Printf("{\"throughput_ops_s\":%.0f,\"p50_us\":%d,\"p99_us\":%d,\"p999_us\":%d,\"max_us\":%d,\"errors\":%d,\"client_cpu_us_per_op\":%.0f}\n",
			throughput, micros(all.percentile(50)), micros(all.percentile(99)), micros(all.percentile(99.9)), micros(all.maxValue()),
			errorsTotal, cpuPerOp)
	}
}
