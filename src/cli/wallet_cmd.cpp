// `anoncode wallet [--server URL] [--ca FILE] --state FILE <action>`: the rider's side of every
// flow, through the SDK (DESIGN §6).
#include <filesystem>
#include <fstream>
#include <memory>

#include "cli/commands.h"
#include "cli/output.h"
#include "pos/qr_image.h"
#include "sdk/results_json.h"
#include "sdk/wallet.h"

namespace anoncode::cli {

void add_wallet_command(CLI::App& app, Action& action) {
  struct Options {
    ServerOption server;
    std::string state, trust_root;
    std::string user_id, app_token, channel = "010001", type, phone, passphrase, name, id_number,
                                    bank_account, png;
    int64_t amount = 0;
    bool strong = false;
  };
  static Options o;
  auto* w = app.add_subcommand("wallet", "the rider's anonymous wallet (SDK)");
  add_server_options(w, o.server);
  w->add_option("--state", o.state, "the wallet state file")->required();
  w->add_option("--trust-root", o.trust_root,
                "the operator's root public key: the trust_root file of `anoncode init`, or its "
                "text (or ANONCODE_TRUST_ROOT); kept in the state")
      ->envname("ANONCODE_TRUST_ROOT");
  w->require_subcommand(1);

  // Runs one SDK call on the loaded wallet and prints its result as JSON.
  auto run = [&action](auto f) {
    action = [f] {
      auto endpoint = endpoint_of(o.server);
      if (!endpoint) return print_error(endpoint.error());
      auto transport = sdk::make_http_transport(*endpoint);
      if (!transport) return print_error(transport.error());
      auto wallet = sdk::Wallet::load(o.state, **transport);
      if (!wallet) return print_error(wallet.error());
      if (!o.trust_root.empty()) {
        std::string text = o.trust_root;
        std::error_code ec;
        if (std::filesystem::is_regular_file(text, ec)) {
          std::ifstream in(text);
          std::getline(in, text);
        }
        if (auto st = wallet->set_trust_root(text); !st) return print_error(st.error());
      }
      auto r = f(*wallet);
      return r ? print_ok(nlohmann::json(*r)) : print_error(r.error());
    };
  };

  auto* open = w->add_subcommand("open", "open the anonymous code (开通)");
  open->add_option("--user-id", o.user_id)->required();
  open->add_option("--app-token", o.app_token)->required();
  open->callback([run] { run([](sdk::Wallet& wl) { return wl.open(o.user_id, o.app_token); }); });

  auto* recharge = w->add_subcommand("recharge", "top up (充值)");
  recharge->add_option("--amount", o.amount, "fen")->required();
  recharge->add_option("--channel", o.channel, "020001 UnionPay, 010002 Alipay, 010001 WeChat")
      ->check(CLI::IsMember({"020001", "010002", "010001"}));
  recharge->add_flag("--strong", o.strong, "strong privacy: a new, unlinkable wallet");
  recharge->callback(
      [run] { run([](sdk::Wallet& wl) { return wl.recharge(o.amount, o.channel, o.strong); }); });

  w->add_subcommand("balance", "the current wallet's balance")->callback([run] {
    run([](sdk::Wallet& wl) { return wl.balance(); });
  });

  auto* code = w->add_subcommand("code", "request a ride code (请码)");
  code->add_option("--png", o.png, "also write the QR code as a PNG image");
  code->callback([run] {
    run([](sdk::Wallet& wl) -> Result<nlohmann::json> {
      ANONCODE_TRY(sdk::CodeResult code, wl.code());
      nlohmann::json out = code;
      if (!o.png.empty()) {  // the QR code a rider's phone shows, as a PNG image
        ANONCODE_CHECK(pos::write_qr_png(o.png, code.payload));
        out["png"] = o.png;
      }
      return out;
    });
  });

  auto* history = w->add_subcommand("history", "recharge or ride records (交易查询)");
  history->add_option("--type", o.type)->required()->check(CLI::IsMember({"recharge", "ride"}));
  history->callback([run] { run([](sdk::Wallet& wl) { return wl.history(o.type); }); });

  auto* backup = w->add_subcommand("backup", "back the wallet up and disable it here (钱包备份)");
  backup->add_option("--phone", o.phone)->required();
  backup->add_option("--passphrase", o.passphrase)->required();
  backup->callback(
      [run] { run([](sdk::Wallet& wl) { return wl.backup(o.phone, o.passphrase); }); });

  auto* restore = w->add_subcommand("restore", "restore a backed-up wallet (钱包恢复)");
  restore->add_option("--phone", o.phone)->required();
  restore->add_option("--passphrase", o.passphrase)->required();
  restore->callback(
      [run] { run([](sdk::Wallet& wl) { return wl.restore(o.phone, o.passphrase); }); });

  auto* refund = w->add_subcommand("refund", "refund the balance to a bank account (余额退款)");
  refund->add_option("--amount", o.amount, "fen")->required();
  refund->add_option("--name", o.name)->required();
  refund->add_option("--id-number", o.id_number)->required();
  refund->add_option("--bank-account", o.bank_account)->required();
  refund->callback([run] {
    run([](sdk::Wallet& wl) { return wl.refund(o.amount, o.name, o.id_number, o.bank_account); });
  });

  w->add_subcommand("close", "close the wallet (钱包关闭)")->callback([run] {
    run([](sdk::Wallet& wl) { return wl.close(); });
  });
}

}  // namespace anoncode::cli
