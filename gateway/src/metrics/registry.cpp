#include "metrics/registry.h"

#include "agentd/base/check.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <variant>

namespace agentd::gateway::metrics {
namespace {

enum Type { counter_type = 0, gauge_type = 1, histogram_type = 2, callback_type = 3 };
constexpr const char* kTypeNames[] = {"counter", "gauge", "histogram", "gauge"};

bool valid_metric_name(std::string_view n) {
    if (n.empty()) {
        return false;
    }
    for (std::size_t i = 0; i < n.size(); ++i) {
        const char c = n[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) {
            return false;
        }
    }
    return true;
}

bool valid_label_name(std::string_view n) {
    return valid_metric_name(n) && n.find(':') == std::string_view::npos &&
           n.substr(0, 2) != "__" && n != "le";
}

void append_double(std::string& out, double v, bool fixed = false) {
    if (std::isnan(v)) {
        out.append("NaN");
    } else if (std::isinf(v)) {
        out.append(v > 0 ? "+Inf" : "-Inf");
    } else {
        char buf[400]; // fixed notation of a large double needs up to ~310 digits
        const auto res = fixed ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
                               : std::to_chars(buf, buf + sizeof buf, v);
        out.append(buf, res.ptr);
    }
}

void append_label_value(std::string& out, std::string_view v) {
    for (char c : v) {
        switch (c) {
        case '\\':
            out.append("\\\\");
            break;
        case '"':
            out.append("\\\"");
            break;
        case '\n':
            out.append("\\n");
            break;
        default:
            out.push_back(c);
        }
    }
}

void append_help(std::string& out, std::string_view v) {
    for (char c : v) {
        if (c == '\\') {
            out.append("\\\\");
        } else if (c == '\n') {
            out.append("\\n");
        } else {
            out.push_back(c);
        }
    }
}

/// `{a="x",b="y"}` plus an optional extra label (histogram `le`); nothing when there are none.
void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
    if (names.empty() && extra_name.empty()) {
        return;
    }
    out.push_back('{');
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) {
            out.push_back(',');
        }
        out.append(names[i]);
        out.append("=\"");
        append_label_value(out, values[i]);
        out.push_back('"');
    }
    if (!extra_name.empty()) {
        if (!names.empty()) {
            out.push_back(',');
        }
        out.append(extra_name);
        out.append("=\"");
        out.append(extra_value);
        out.push_back('"');
    }
    out.push_back('}');
}

std::string series_key(const std::string_view* values, std::size_t n) {
    std::string key;
    for (std::size_t i = 0; i < n; ++i) {
        key.append(std::to_string(values[i].size()));
        key.push_back(':');
        key.append(values[i]);
    }
    return key;
}

void append_histogram(std::string& out, const std::string& name,
                      const std::vector<std::string>& labels,
                      const std::vector<std::string>& values, const Histogram& h) {
    const auto snap = h.snapshot();
    std::string le;
    for (std::size_t i = 0; i < snap.cumulative.size(); ++i) {
        le.clear();
        if (i < h.bounds().size()) {
            append_double(le, h.bounds()[i], /*fixed=*/true);
        } else {
            le = "+Inf";
        }
        out.append(name).append("_bucket");
        append_labels(out, labels, values, "le", le);
        out.append(" ").append(std::to_string(snap.cumulative[i])).push_back('\n');
    }
    out.append(name).append("_sum");
    append_labels(out, labels, values);
    out.push_back(' ');
    append_double(out, snap.sum);
    out.push_back('\n');
    out.append(name).append("_count");
    append_labels(out, labels, values);
    out.append(" ").append(std::to_string(snap.cumulative.back())).push_back('\n');
}

} // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
    AGENTD_CHECK(std::is_sorted(bounds_.begin(), bounds_.end()) &&
                     std::adjacent_find(bounds_.begin(), bounds_.end()) == bounds_.end(),
                 "histogram bounds are strictly increasing");
}

void Histogram::observe(double v) noexcept {
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
    counts_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
    Snapshot s;
    s.cumulative.resize(bounds_.size() + 1);
    std::uint64_t running = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        running += counts_[i].load(std::memory_order_relaxed);
        s.cumulative[i] = running;
    }
    s.sum = sum_.load(std::memory_order_relaxed);
    return s;
}

template <class Metric>
Family<Metric>::Family(std::size_t label_count, std::size_t max_series,
                       std::function<std::unique_ptr<Metric>()> make)
    : label_count_(label_count), max_series_(std::max<std::size_t>(max_series, 1)),
      make_(std::move(make)) {}

template <class Metric>
Metric& Family<Metric>::with(std::initializer_list<std::string_view> values) {
    return with_span(values.begin(), values.size());
}

template <class Metric>
Metric& Family<Metric>::with(const std::vector<std::string_view>& values) {
    return with_span(values.data(), values.size());
}

template <class Metric>
Metric& Family<Metric>::with_span(const std::string_view* values, std::size_t n) {
    AGENTD_CHECK(n == label_count_, "label values match the family's label names");
    const std::string key = series_key(values, n);
    {
        std::shared_lock lock(mutex_);
        if (auto it = children_.find(key); it != children_.end()) {
            return *it->second->metric;
        }
    }
    std::unique_lock lock(mutex_);
    if (auto it = children_.find(key); it != children_.end()) {
        return *it->second->metric;
    }
    if (children_.size() >= max_series_) {
        if (!overflow_) {
            overflow_ = std::make_unique<Child>();
            overflow_->values.assign(label_count_, "_overflow");
            overflow_->metric = make_();
        }
        return *overflow_->metric;
    }
    auto child = std::make_unique<Child>();
    child->values.assign(values, values + n);
    child->metric = make_();
    Metric& m = *child->metric;
    children_.emplace(key, std::move(child));
    return m;
}

template <class Metric>
template <class F>
void Family<Metric>::for_each(F&& f) const {
    std::shared_lock lock(mutex_);
    std::vector<const Child*> sorted;
    sorted.reserve(children_.size() + 1);
    for (const auto& [key, child] : children_) {
        sorted.push_back(child.get());
    }
    std::sort(sorted.begin(), sorted.end(),
              [](const Child* a, const Child* b) { return a->values < b->values; });
    if (overflow_) {
        sorted.push_back(overflow_.get());
    }
    for (const Child* c : sorted) {
        f(c->values, *c->metric);
    }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

struct Registry::Entry {
    std::string name;
    std::string help;
    int type = counter_type;
    std::vector<std::string> labels;
    std::vector<double> bounds;
    std::unique_ptr<Family<Counter>> counters;
    std::unique_ptr<Family<Gauge>> gauges;
    std::unique_ptr<Family<Histogram>> histograms;
    std::function<double()> callback;
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Entry& Registry::find_or_add(std::string name, std::string help, int type,
                                       std::vector<std::string> labels,
                                       std::vector<double> bounds) {
    AGENTD_CHECK(valid_metric_name(name), "metric names match [a-zA-Z_:][a-zA-Z0-9_:]*");
    for (const auto& l : labels) {
        AGENTD_CHECK(valid_label_name(l), "label names match [a-zA-Z_][a-zA-Z0-9_]*, not __*/le");
    }
    std::lock_guard lock(mutex_);
    for (auto& e : entries_) {
        if (e->name == name) {
            AGENTD_CHECK(e->type == type && e->labels == labels && e->help == help &&
                             e->bounds == bounds && type != callback_type,
                         "a metric name is registered once, or again with the same shape");
            return *e;
        }
    }
    auto e = std::make_unique<Entry>();
    e->name = std::move(name);
    e->help = std::move(help);
    e->type = type;
    e->labels = std::move(labels);
    e->bounds = std::move(bounds);
    entries_.push_back(std::move(e));
    return *entries_.back();
}

Counter& Registry::counter(std::string name, std::string help) {
    return counter_family(std::move(name), std::move(help), {}).with({});
}

Family<Counter>& Registry::counter_family(std::string name, std::string help,
                                          std::vector<std::string> labels, std::size_t max_series) {
    const std::size_t n = labels.size();
    Entry& e = find_or_add(std::move(name), std::move(help), counter_type, std::move(labels), {});
    std::lock_guard lock(mutex_);
    if (!e.counters) {
        e.counters = std::make_unique<Family<Counter>>(n, max_series,
                                                       [] { return std::make_unique<Counter>(); });
    }
    return *e.counters;
}

Gauge& Registry::gauge(std::string name, std::string help) {
    return gauge_family(std::move(name), std::move(help), {}).with({});
}

Family<Gauge>& Registry::gauge_family(std::string name, std::string help,
                                      std::vector<std::string> labels, std::size_t max_series) {
    const std::size_t n = labels.size();
    Entry& e = find_or_add(std::move(name), std::move(help), gauge_type, std::move(labels), {});
    std::lock_guard lock(mutex_);
    if (!e.gauges) {
        e.gauges = std::make_unique<Family<Gauge>>(n, max_series,
                                                   [] { return std::make_unique<Gauge>(); });
    }
    return *e.gauges;
}

Histogram& Registry::histogram(std::string name, std::string help, std::vector<double> bounds) {
    return histogram_family(std::move(name), std::move(help), {}, std::move(bounds)).with({});
}

Family<Histogram>& Registry::histogram_family(std::string name, std::string help,
                                              std::vector<std::string> labels,
                                              std::vector<double> bounds, std::size_t max_series) {
    const std::size_t n = labels.size();
    Entry& e =
        find_or_add(std::move(name), std::move(help), histogram_type, std::move(labels), bounds);
    std::lock_guard lock(mutex_);
    if (!e.histograms) {
        e.histograms = std::make_unique<Family<Histogram>>(
            n, max_series, [b = std::move(bounds)] { return std::make_unique<Histogram>(b); });
    }
    return *e.histograms;
}

void Registry::gauge_callback(std::string name, std::string help, std::function<double()> read) {
    AGENTD_CHECK(read != nullptr, "a callback gauge needs a reader");
    Entry& e = find_or_add(std::move(name), std::move(help), callback_type, {}, {});
    std::lock_guard lock(mutex_);
    e.callback = std::move(read);
}

std::string Registry::render() const {
    // Snapshot the entries' fields under the lock: families are created under it and never
    // replaced or removed afterwards, so using the pointers after unlocking is safe.
    struct View {
        const Entry* entry;
        const Family<Counter>* counters;
        const Family<Gauge>* gauges;
        const Family<Histogram>* histograms;
        std::function<double()> callback;
    };
    std::vector<View> views;
    {
        std::lock_guard lock(mutex_);
        views.reserve(entries_.size());
        for (const auto& e : entries_) {
            views.push_back(
                {e.get(), e->counters.get(), e->gauges.get(), e->histograms.get(), e->callback});
        }
    }
    std::sort(views.begin(), views.end(),
              [](const View& a, const View& b) { return a.entry->name < b.entry->name; });
    std::string out;
    out.reserve(4096);
    for (const View& v : views) {
        const Entry* e = v.entry;
        out.append("# HELP ").append(e->name).push_back(' ');
        append_help(out, e->help);
        out.append("\n# TYPE ").append(e->name).push_back(' ');
        out.append(kTypeNames[e->type]).push_back('\n');
        if (v.counters != nullptr) {
            v.counters->for_each([&](const std::vector<std::string>& values, const Counter& c) {
                out.append(e->name);
                append_labels(out, e->labels, values);
                out.append(" ").append(std::to_string(c.value())).push_back('\n');
            });
        } else if (v.gauges != nullptr) {
            v.gauges->for_each([&](const std::vector<std::string>& values, const Gauge& g) {
                out.append(e->name);
                append_labels(out, e->labels, values);
                out.push_back(' ');
                append_double(out, g.value());
                out.push_back('\n');
            });
        } else if (v.histograms != nullptr) {
            v.histograms->for_each([&](const std::vector<std::string>& values, const Histogram& h) {
                append_histogram(out, e->name, e->labels, values, h);
            });
        } else if (v.callback) {
            out.append(e->name).push_back(' ');
            append_double(out, v.callback());
            out.push_back('\n');
        }
    }
    return out;
}

std::vector<double> Registry::latency_buckets() {
    return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
            0.1,    0.25,    0.5,    1.0,   2.5,    5.0,   10.0, 30.0,  60.0};
}

} // namespace agentd::gateway::metrics
