// What the admin console and the metrics read from the code platform (platform.h), each in one
// transaction; the SQL is platform_store.h's and ledger_store.h's.
#include "platform/ledger_store.h"
#include "platform/platform.h"
#include "platform/platform_store.h"

namespace anoncode::platform {

using storage::Tx;

namespace {

// What `read(tx, out)` fills in, in a transaction of its own (started afresh on a retry).
template <typename T, typename F>
Result<T> read_in(storage::Db& db, F&& read) {
  T out{};
  ANONCODE_CHECK(db.transact([&](Tx& tx) -> Status {
    out = T{};
    return read(tx, out);
  }));
  return out;
}

// A count the store reads.
Result<int64_t> count_in(storage::Db& db, Result<int64_t> (*count)(Tx&)) {
  return read_in<int64_t>(db, [&](Tx& tx, int64_t& n) -> Status {
    ANONCODE_TRY(n, count(tx));
    return {};
  });
}

}  // namespace

Result<DayTotals> CodePlatform::day_totals(int64_t from_ms, int64_t until_ms) {
  return read_in<DayTotals>(db_, [&](Tx& tx, DayTotals& out) -> Status {
    ANONCODE_TRY(out.recharges, store::recharge_totals(tx, from_ms, until_ms));
    ANONCODE_TRY(out.rides, store::ride_totals(tx, from_ms, until_ms));
    ANONCODE_TRY(out.refunds, store::refund_totals(tx, from_ms, until_ms));
    ANONCODE_TRY(out.copy_risks, store::copy_risk_count(tx, from_ms, until_ms));
    return {};
  });
}

Result<CodeLookup> CodePlatform::code_lookup(std::string_view sequence) {
  return read_in<CodeLookup>(db_, [&](Tx& tx, CodeLookup& out) -> Status {
    ANONCODE_TRY(out.code, store::load_code_request(tx, sequence));
    ANONCODE_TRY(out.rides, store::rides_of_sequence(tx, sequence));
    return {};
  });
}

Result<WalletRecords> CodePlatform::account_records(std::string_view accountid, int64_t limit) {
  return read_in<WalletRecords>(db_, [&](Tx& tx, WalletRecords& out) -> Status {
    ANONCODE_TRY(out.wallets, store::wallets_of_account(tx, accountid));
    ANONCODE_TRY(auto newest, store::newest_transactions(tx, accountid, limit));
    out.transactions.assign(newest.rbegin(), newest.rend());
    return {};
  });
}

Result<RefillJobs> CodePlatform::refill_jobs(int64_t limit) {
  return read_in<RefillJobs>(db_, [&](Tx& tx, RefillJobs& out) -> Status {
    ANONCODE_TRY(out.pending, store::pending_refills(tx, limit));
    ANONCODE_TRY(out.done, store::moved_refills(tx, limit));
    return {};
  });
}

Result<int64_t> CodePlatform::pending_refill_count() {
  return count_in(db_, store::count_pending_refills);
}

Result<int64_t> CodePlatform::pending_request_count() {
  return count_in(db_, store::count_pending_requests);
}

}  // namespace anoncode::platform
