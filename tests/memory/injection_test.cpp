// Hostile input is data, never SQL or FTS syntax: it is stored verbatim or rejected as an error.
#include "agentd/memory/errc.h"
#include "agentd/memory/memory_store.h"
#include "agentd/memory/session_store.h"
#include "agentd/memory/tool_store.h"

#include "memory_test_util.h"
#include "store/fts_query.h"

#include <gtest/gtest.h>

namespace agentd::memory {
namespace {

const char* const kHostile[] = {
    "'; DROP TABLE memories; --",
    "\" OR 1=1 --",
    "x') UNION SELECT * FROM sessions --",
    "a\"b'c;d",
    "%_*",
};

class Injection : public ::testing::Test {
protected:
    void SetUp() override {
        db_ = test::open_db(dir_.db_path());
        ASSERT_TRUE(db_);
        ASSERT_TRUE(db_->memories().put("victim", {.text = "victim data"}));
    }
    test::TempDir dir_{"injection"};
    std::unique_ptr<Database> db_;
};

TEST_F(Injection, HostileIdsAreStoredVerbatimAndHarmless) {
    for (const char* evil : kHostile) {
        auto s = db_->sessions().create(
            evil, {.id = evil,
                   .title = evil,
                   .metadata_json = std::string(R"({"x":")") + "'; DROP TABLE tasks; --" + "\"}"});
        ASSERT_TRUE(s) << evil << ": " << s.error().what();
        EXPECT_EQ(db_->sessions().get(evil, evil).value().title, evil);
        auto m = db_->memories().put(evil, {.ns = evil, .text = evil});
        ASSERT_TRUE(m) << evil;
        const std::vector<std::string> ns{evil};
        EXPECT_EQ(db_->memories().count(evil, ns).value(), 1);
    }
    EXPECT_EQ(db_->memories().count("victim").value(), 1);
    EXPECT_EQ(db_->integrity_check().value(), "ok");
    EXPECT_EQ(db_->sessions().count("victim").value(), 0);
}

TEST_F(Injection, PlainKeywordQueriesNeverFailOnSyntax) {
    const char* queries[] = {"\"",
                             "AND",
                             "OR OR OR",
                             "NEAR(",
                             "a*",
                             "(x",
                             "col:val",
                             "^start",
                             "\"unterminated",
                             "NOT",
                             "-",
                             "{a b}",
                             "'; DROP TABLE memories_fts; --",
                             "   ",
                             "\xe2\x80\x9cquoted\xe2\x80\x9d victim"};
    for (const char* q : queries) {
        SearchQuery s;
        s.text = q;
        auto r = db_->memories().search("victim", s);
        ASSERT_TRUE(r) << q << ": " << r.error().what();
    }
    SearchQuery s;
    s.text = "victim\" OR \"";
    EXPECT_EQ(db_->memories().search("victim", s).value().size(), 1u);
    EXPECT_EQ(store::plain_fts_query("a \"b\" c*"), "\"a\" OR \"b\" OR \"c\"");
    EXPECT_EQ(store::plain_fts_query("!!!"), "");
}

TEST_F(Injection, Fts5SyntaxErrorsAreInvalidArgument) {
    for (const char* q : {"\"unterminated", "AND", "(a", "a OR", "NEAR(a b", "nocolumn:x"}) {
        SearchQuery s;
        s.text = q;
        s.keyword_syntax = KeywordSyntax::fts5;
        auto r = db_->memories().search("victim", s);
        ASSERT_FALSE(r) << q;
        EXPECT_EQ(r.error().code, errc::invalid_argument) << q << ": " << r.error().what();
    }
    SearchQuery ok;
    ok.text = "victim AND data";
    ok.keyword_syntax = KeywordSyntax::fts5;
    EXPECT_EQ(db_->memories().search("victim", ok).value().size(), 1u);
}

TEST_F(Injection, HostileFiltersAreRejectedOrInert) {
    SearchQuery s;
    s.text = "victim";
    s.filter_json = R"({"x":"'; DROP TABLE memories; --"})";
    EXPECT_TRUE(db_->memories().search("victim", s).value().empty());
    for (const char* f : {"{", "[]", "1", R"({"$where":"1"})", R"({"a":{"$regex":"."}})",
                          R"({"a":{"$gt":[1]}})", R"({"$or":[]})"}) {
        s.filter_json = f;
        auto r = db_->memories().search("victim", s);
        ASSERT_FALSE(r) << f;
        EXPECT_EQ(r.error().code, errc::invalid_argument) << f;
    }
    std::string deep;
    for (int i = 0; i < 5000; ++i) {
        deep += R"({"$not":)";
    }
    s.filter_json = deep;
    EXPECT_EQ(db_->memories().search("victim", s).error().code, errc::invalid_argument);
    EXPECT_EQ(db_->memories().count("victim").value(), 1);
}

TEST_F(Injection, OversizedAndMalformedInputIsRejected) {
    EXPECT_EQ(db_->memories().put("", {.text = "x"}).error().code, errc::invalid_argument);
    EXPECT_EQ(db_->memories().put(std::string(1000, 't'), {.text = "x"}).error().code,
              errc::invalid_argument);
    EXPECT_EQ(db_->memories().put("t\n", {.text = "x"}).error().code, errc::invalid_argument);
    EXPECT_EQ(db_->memories().put("t", {.text = std::string(2u << 20, 'x')}).error().code,
              errc::invalid_argument);
    EXPECT_EQ(db_->memories()
                  .put("t", {.embedding = std::vector<float>(10000, 1.0f), .model = "m"})
                  .error()
                  .code,
              errc::invalid_argument);
    EXPECT_EQ(db_->sessions().create("t", {.id = std::string("a\0b", 3)}).error().code,
              errc::invalid_argument);
    SearchQuery q;
    EXPECT_EQ(db_->memories().search("t", q).error().code, errc::invalid_argument); // nothing
    q.text = "x";
    q.k = 0;
    EXPECT_EQ(db_->memories().search("t", q).error().code, errc::invalid_argument);
}

} // namespace
} // namespace agentd::memory
