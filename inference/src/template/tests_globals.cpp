// Jinja's builtin tests (`x is defined`, ...) and the global functions chat templates call
// (range, dict, namespace, and Hugging Face's raise_exception and strftime_now).

#include "template/interpreter.h"
#include "template/parser.h"
#include "template/pystr.h"

#include <ctime>
#include <functional>
#include <unordered_map>

namespace agentd::inference::jinja {
namespace {

using TestFn = std::function<bool(Interpreter&, const JVal&, CallArgs&)>;

const JVal& need(Interpreter& in, CallArgs& args, std::string_view test) {
    if (args.positional.empty()) {
        in.fail("test '" + std::string(test) + "' needs an argument");
    }
    return args.positional[0];
}

bool compare_test(Interpreter& in, const JVal& v, CallArgs& a, std::string_view op) {
    const JVal& other = need(in, a, op);
    bool ok = true;
    bool r = false;
    if (op == "lt") {
        r = less(v, other, ok);
    } else if (op == "gt") {
        r = less(other, v, ok);
    } else if (op == "le") {
        r = !less(other, v, ok);
    } else {
        r = !less(v, other, ok);
    }
    if (!ok) {
        in.fail("cannot compare " + std::string(type_name(v)) + " and " + type_name(other));
    }
    return r;
}

const std::unordered_map<std::string_view, TestFn>& tests() {
    auto eq = [](Interpreter& in, const JVal& v, CallArgs& a) {
        return equals(v, need(in, a, "eq"));
    };
    auto ne = [](Interpreter& in, const JVal& v, CallArgs& a) {
        return !equals(v, need(in, a, "ne"));
    };
    auto lt = [](Interpreter& in, const JVal& v, CallArgs& a) {
        return compare_test(in, v, a, "lt");
    };
    auto le = [](Interpreter& in, const JVal& v, CallArgs& a) {
        return compare_test(in, v, a, "le");
    };
    auto gt = [](Interpreter& in, const JVal& v, CallArgs& a) {
        return compare_test(in, v, a, "gt");
    };
    auto ge = [](Interpreter& in, const JVal& v, CallArgs& a) {
        return compare_test(in, v, a, "ge");
    };
    static const std::unordered_map<std::string_view, TestFn> table = {
        {"boolean", [](Interpreter&, const JVal& v, CallArgs&) { return v.is_bool(); }},
        {"callable", [](Interpreter&, const JVal& v, CallArgs&) { return v.is_callable(); }},
        {"defined", [](Interpreter&, const JVal& v, CallArgs&) { return !v.is_undefined(); }},
        {"divisibleby",
         [](Interpreter& in, const JVal& v, CallArgs& a) {
             std::int64_t d = to_int(in, need(in, a, "divisibleby"), "divisor");
             if (d == 0) {
                 in.fail("integer division or modulo by zero");
             }
             return to_int(in, v, "value") % d == 0;
         }},
        {"eq", eq},
        {"equalto", eq},
        {"==", eq},
        {"escaped", [](Interpreter&, const JVal&, CallArgs&) { return false; }},
        {"even",
         [](Interpreter& in, const JVal& v, CallArgs&) { return to_int(in, v, "value") % 2 == 0; }},
        {"false",
         [](Interpreter&, const JVal& v, CallArgs&) { return v.is_bool() && !v.as_bool(); }},
        {"filter",
         [](Interpreter& in, const JVal& v, CallArgs&) {
             (void)in;
             return v.is_string() && has_filter(v.str());
         }},
        {"float", [](Interpreter&, const JVal& v, CallArgs&) { return v.is_float(); }},
        {"ge", ge},
        {">=", ge},
        {"gt", gt},
        {"greaterthan", gt},
        {">", gt},
        {"in",
         [](Interpreter& in, const JVal& v, CallArgs& a) {
             const JVal& seq = need(in, a, "in");
             if (seq.is_string()) {
                 return v.is_string() && seq.str().find(v.str()) != std::string::npos;
             }
             for (const auto& x : iterate(in, seq)) {
                 if (equals(x, v)) {
                     return true;
                 }
             }
             return false;
         }},
        {"integer", [](Interpreter&, const JVal& v, CallArgs&) { return v.is_int(); }},
        // Undefined is iterable and a sequence in Jinja (it defines __iter__ and __len__).
        {"iterable",
         [](Interpreter&, const JVal& v, CallArgs&) {
             return v.is_string() || v.is_list() || (v.is_dict() && !v.dict()->is_namespace) ||
                    v.is_undefined();
         }},
        {"le", le},
        {"<=", le},
        {"lower", [](Interpreter&, const JVal& v,
                     CallArgs&) { return v.is_string() && py::is_lower(v.str()); }},
        {"lt", lt},
        {"lessthan", lt},
        {"<", lt},
        {"mapping", [](Interpreter&, const JVal& v,
                       CallArgs&) { return v.is_dict() && !v.dict()->is_namespace; }},
        {"ne", ne},
        {"!=", ne},
        {"none", [](Interpreter&, const JVal& v, CallArgs&) { return v.is_none(); }},
        {"number", [](Interpreter&, const JVal& v, CallArgs&) { return v.is_number(); }},
        {"odd",
         [](Interpreter& in, const JVal& v, CallArgs&) { return to_int(in, v, "value") % 2 != 0; }},
        {"sameas",
         [](Interpreter& in, const JVal& v, CallArgs& a) {
             const JVal& o = need(in, a, "sameas");
             if (v.is_list() && o.is_list()) {
                 return v.list() == o.list();
             }
             if (v.is_dict() && o.is_dict()) {
                 return v.dict() == o.dict();
             }
             if (v.is_bool() != o.is_bool() || v.is_none() != o.is_none()) {
                 return false;
             }
             return equals(v, o);
         }},
        {"sequence",
         [](Interpreter&, const JVal& v, CallArgs&) {
             return v.is_string() || v.is_list() || (v.is_dict() && !v.dict()->is_namespace) ||
                    v.is_undefined();
         }},
        {"string", [](Interpreter&, const JVal& v, CallArgs&) { return v.is_string(); }},
        {"test", [](Interpreter&, const JVal& v,
                    CallArgs&) { return v.is_string() && tests().count(v.str()) > 0; }},
        {"true", [](Interpreter&, const JVal& v, CallArgs&) { return v.is_bool() && v.as_bool(); }},
        {"undefined", [](Interpreter&, const JVal& v, CallArgs&) { return v.is_undefined(); }},
        {"upper", [](Interpreter&, const JVal& v,
                     CallArgs&) { return v.is_string() && py::is_upper(v.str()); }},
    };
    return table;
}

// A global function implemented by a lambda.
class Builtin final : public Callable {
public:
    using Fn = std::function<JVal(Interpreter&, CallArgs&)>;
    Builtin(std::string name, Fn fn) : name_(std::move(name)), fn_(std::move(fn)) {}
    JVal call(Interpreter& in, CallArgs& args) override { return fn_(in, args); }
    [[nodiscard]] std::string name() const override { return name_; }

private:
    std::string name_;
    Fn fn_;
};

JVal builtin(std::string name, Builtin::Fn fn) {
    return JVal(std::static_pointer_cast<Callable>(
        std::make_shared<Builtin>(std::move(name), std::move(fn))));
}

JVal range_fn(Interpreter& in, CallArgs& args) {
    std::int64_t start = 0;
    std::int64_t stop = 0;
    std::int64_t step = 1;
    auto& p = args.positional;
    if (p.size() == 1) {
        stop = to_int(in, p[0], "range() argument");
    } else if (p.size() == 2 || p.size() == 3) {
        start = to_int(in, p[0], "range() argument");
        stop = to_int(in, p[1], "range() argument");
        if (p.size() == 3) {
            step = to_int(in, p[2], "range() argument");
        }
    } else {
        in.fail("range() takes 1 to 3 arguments");
    }
    if (step == 0) {
        in.fail("range() arg 3 must not be zero");
    }
    // Bounded like every other value the template builds.
    std::int64_t limit = static_cast<std::int64_t>(in.limits().max_output_bytes / sizeof(JVal)) + 1;
    auto out = make_list();
    for (std::int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (static_cast<std::int64_t>(out->items.size()) >= limit) {
            in.fail("range() too large");
        }
        out->items.emplace_back(i);
        in.step();
    }
    return JVal(out);
}

JVal namespace_fn(Interpreter& in, CallArgs& args) {
    auto ns = make_dict();
    ns->is_namespace = true;
    for (const auto& p : args.positional) {
        if (!p.is_dict()) {
            in.fail("namespace() positional arguments must be mappings");
        }
        for (const auto& [k, v] : p.dict()->items) {
            ns->set(k, v);
        }
    }
    for (const auto& [k, v] : args.keyword) {
        ns->set(k, v);
    }
    return JVal(ns);
}

JVal strftime_now_fn(Interpreter& in, CallArgs& args) {
    if (args.positional.empty() || !args.positional[0].is_string()) {
        in.fail("strftime_now() needs a format string");
    }
    std::time_t t = std::chrono::system_clock::to_time_t(in.now());
    std::tm tm{};
    gmtime_r(&t, &tm); // UTC: rendering must not depend on the host time zone
    char buf[256];
    std::size_t n = std::strftime(buf, sizeof buf, args.positional[0].str().c_str(), &tm);
    if (n == 0 && !args.positional[0].str().empty()) {
        in.fail("strftime_now() format produced no output or too much");
    }
    return JVal(std::string(buf, n));
}

} // namespace

bool has_test(std::string_view name) {
    return tests().count(name) > 0;
}

bool call_test(Interpreter& in, std::string_view name, const JVal& input, CallArgs& args) {
    auto it = tests().find(name);
    if (it == tests().end()) {
        in.fail("unsupported test '" + std::string(name) + "'");
    }
    return it->second(in, input, args);
}

void install_globals(Scope& scope) {
    scope.set("range", builtin("range", range_fn));
    scope.set("namespace", builtin("namespace", namespace_fn));
    scope.set("dict", builtin("dict", [](Interpreter& in, CallArgs& args) {
                  JVal ns = namespace_fn(in, args);
                  ns.dict()->is_namespace = false;
                  return ns;
              }));
    scope.set("raise_exception", builtin("raise_exception", [](Interpreter& in, CallArgs& args) {
                  std::string msg = args.positional.empty() ? "" : to_str(args.positional[0]);
                  in.fail("raise_exception: " + msg);
                  return JVal();
              }));
    scope.set("strftime_now", builtin("strftime_now", strftime_now_fn));
    scope.set("joiner", builtin("joiner", [](Interpreter&, CallArgs& args) {
                  std::string sep = args.positional.empty() ? ", " : to_str(args.positional[0]);
                  auto used = std::make_shared<bool>(false);
                  return builtin("joiner", [sep, used](Interpreter&, CallArgs&) {
                      if (!*used) {
                          *used = true;
                          return JVal("");
                      }
                      return JVal(sep);
                  });
              }));
}

} // namespace agentd::inference::jinja
