#pragma once
/// Metrics: counters, gauges and histograms, optionally labelled, rendered in the Prometheus text
/// exposition format 0.0.4 for GET /metrics.
///
/// Ownership: the Registry owns every metric; the references it returns stay valid for the
/// registry's lifetime, so components look a metric up once and keep the reference.
/// Thread affinity: everything is thread-safe. Increments/observations are lock-free atomics;
/// looking up a labelled child takes a shared lock (an exclusive one the first time a label set
/// is seen); render() takes the registry lock briefly per family.
/// Errors: registering a name twice with a different type, help or label set, or an invalid
/// metric/label name, is a programming error (AGENTD_CHECK). Label values are arbitrary text
/// (escaped on output); each family holds at most `max_series` label sets, further sets share
/// one child whose labels all read "_overflow" (untrusted input can never grow memory unboundedly).

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace agentd::gateway::metrics {

/// A monotonically increasing integer.
class Counter {
public:
    void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t value() const noexcept {
        return value_.load(std::memory_order_relaxed);
    }

private:
    std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down.
class Gauge {
public:
    void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
    void add(double v) noexcept { value_.fetch_add(v, std::memory_order_relaxed); }
    void sub(double v) noexcept { value_.fetch_sub(v, std::memory_order_relaxed); }
    [[nodiscard]] double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0.0};
};

/// A distribution over fixed, increasing upper bounds (an implicit +Inf bucket is added).
class Histogram {
public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double v) noexcept;

    struct Snapshot {
        std::vector<std::uint64_t> cumulative; ///< one per bound, then +Inf
        double sum = 0.0;
    };
    [[nodiscard]] Snapshot snapshot() const;
    [[nodiscard]] const std::vector<double>& bounds() const noexcept { return bounds_; }

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
    std::atomic<double> sum_{0.0};
};

class Registry;

/// A metric with labels: one child per distinct label-value list.
template <class Metric>
class Family {
public:
    /// The child for these label values (in the order of the family's label names). A wrong
    /// number of values is a programming error.
    Metric& with(std::initializer_list<std::string_view> values);
    Metric& with(const std::vector<std::string_view>& values);

    Family(std::size_t label_count, std::size_t max_series,
           std::function<std::unique_ptr<Metric>()> make);

private:
    friend class Registry;
    struct Child {
        std::vector<std::string> values;
        std::unique_ptr<Metric> metric;
    };
    Metric& with_span(const std::string_view* values, std::size_t n);
    template <class F>
    void for_each(F&& f) const; ///< in label-value order

    std::size_t label_count_;
    std::size_t max_series_;
    std::function<std::unique_ptr<Metric>()> make_;
    mutable std::shared_mutex mutex_;
    std::unordered_map<std::string, std::unique_ptr<Child>> children_;
    std::unique_ptr<Child> overflow_;
};

class Registry {
public:
    Registry();
    ~Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    static constexpr std::size_t kDefaultMaxSeries = 1000;

    Counter& counter(std::string name, std::string help);
    Family<Counter>& counter_family(std::string name, std::string help,
                                    std::vector<std::string> labels,
                                    std::size_t max_series = kDefaultMaxSeries);
    Gauge& gauge(std::string name, std::string help);
    Family<Gauge>& gauge_family(std::string name, std::string help, std::vector<std::string> labels,
                                std::size_t max_series = kDefaultMaxSeries);
    Histogram& histogram(std::string name, std::string help, std::vector<double> bounds);
    Family<Histogram>& histogram_family(std::string name, std::string help,
                                        std::vector<std::string> labels, std::vector<double> bounds,
                                        std::size_t max_series = kDefaultMaxSeries);
    /// A gauge read at scrape time (on the scraping thread). `read` must be cheap, non-blocking
    /// and thread-safe, and must outlive the registry's last render().
    void gauge_callback(std::string name, std::string help, std::function<double()> read);

    /// The whole registry in the text format 0.0.4, families sorted by name.
    [[nodiscard]] std::string render() const;

    /// Latency buckets in seconds, 100 µs … 60 s.
    [[nodiscard]] static std::vector<double> latency_buckets();

private:
    struct Entry;
    Entry& find_or_add(std::string name, std::string help, int type,
                       std::vector<std::string> labels, std::vector<double> bounds);

    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<Entry>> entries_;
};

} // namespace agentd::gateway::metrics

namespace agentd::gateway::metrics {
extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;
} // namespace agentd::gateway::metrics
