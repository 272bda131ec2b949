// The credential's objects on the wire (docs/PROTOCOL.md §6): each layout declared once, below,
// and run by the codec's writer, sizer and reader (credential_codec.h).
#include "crypto/credential_codec.h"

#include "crypto/credential_internal.h"

namespace anoncode::crypto {
namespace codec {

Writer::Writer(const Group& g, Type type) : g_(g) {
  out_.u8(kVersion).u8(static_cast<uint8_t>(type)).u8(static_cast<uint8_t>(g.id()));
}

Writer& Writer::point(const Point& p) {
  out_.raw(g_.encode_point(p));
  return *this;
}

Writer& Writer::scalar(const Scalar& s) {
  auto b = g_.encode_scalar(s);
  out_.raw(b);
  sodium_memzero(b.data(), b.size());
  return *this;
}

Writer& Writer::points(std::span<const Point> ps) {
  for (const auto& p : ps) point(p);
  return *this;
}

Writer& Writer::bytes(ByteView b, size_t /*len*/) {
  out_.raw(b);
  return *this;
}

Writer& Writer::op(ShowOp op) {
  out_.u8(static_cast<uint8_t>(op));
  return *this;
}

Writer& Writer::count(std::span<const Point> list) {
  out_.u8(static_cast<uint8_t>(list.size()));
  return *this;
}

void Reader::fail(Error e) {
  if (status_.ok()) status_ = Status(std::move(e));
}

std::optional<ByteView> Reader::take(size_t n) {
  if (!status_.ok()) return std::nullopt;
  auto b = in_.raw(n);
  if (!b) {
    fail(b.error());
    return std::nullopt;
  }
  return *b;
}

void Reader::bad_element(const char* what) {
  fail(origin_ == Origin::kOthers ? detail::verification_failed()
                                  : make_error(ErrorCode::kMalformed, what));
}

Reader& Reader::element(Point& out, bool allow_identity) {
  if (auto b = take(g_.point_size())) {
    auto p = g_.decode_point(*b, allow_identity);
    if (p) {
      out = *p;
    } else {
      bad_element("bad group element");
    }
  }
  return *this;
}

Reader& Reader::scalar(Scalar& out) {
  if (auto b = take(Group::kScalarSize)) {
    auto s = g_.decode_scalar(*b);
    if (s) {
      out = *s;
    } else {
      bad_element("bad scalar");
    }
  }
  return *this;
}

Reader& Reader::points(std::vector<Point>& out) {
  for (auto& p : out) point(p);
  return *this;
}

Reader& Reader::bytes(Bytes& out, size_t len) {
  if (auto b = take(len)) out = to_bytes(*b);
  return *this;
}

Reader& Reader::op(ShowOp& out) {
  if (auto b = take(1)) {
    if (is_valid_show_op((*b)[0])) {
      out = static_cast<ShowOp>((*b)[0]);
    } else {
      fail(make_error(ErrorCode::kMalformed, "unknown operation"));
    }
  }
  return *this;
}

Reader& Reader::count(std::vector<Point>& list) {
  if (auto b = take(1)) {
    if ((*b)[0] <= kMaxPseudonyms) {
      list.resize((*b)[0]);
    } else {
      fail(make_error(ErrorCode::kMalformed, "too many pseudonyms"));
    }
  }
  return *this;
}

Status check_version_and_type(ByteView bytes, Type type) {
  if (bytes[0] != kVersion) return make_error(ErrorCode::kMalformed, "unsupported version");
  if (bytes[1] != static_cast<uint8_t>(type)) {
    return make_error(ErrorCode::kMalformed, "wrong object type");
  }
  return {};
}

namespace {

// The issuer's keys, as fields (the key classes derive W's table and the kid from them).
struct PublicKeyFields {
  const Group* group = nullptr;
  Point W;
};
struct SecretKeyFields {
  const Group* group = nullptr;
  Scalar x;
};

}  // namespace

// ---------------------------------------------------------------- the layouts

enum class Secrecy { kPublic, kSecret };

// What a layout says besides its fields: its type byte, who writes it, whether it is a secret,
// and the member that names its group.
template <Type type, Origin origin, Secrecy secrecy, auto group>
struct Object {
  static constexpr Type kType = type;
  static constexpr Origin kOrigin = origin;
  static constexpr bool kSecret = secrecy == Secrecy::kSecret;
  static constexpr auto kGroup = group;
};

template <>
struct Layout<PublicKeyFields>
    : Object<Type::kIssuerPublicKey, Origin::kOwn, Secrecy::kPublic, &PublicKeyFields::group> {
  template <typename Io, typename M>
  static void fields(Io& io, M& m) {
    io.point(m.W);
  }
};

template <>
struct Layout<SecretKeyFields>
    : Object<Type::kIssuerKey, Origin::kOwn, Secrecy::kSecret, &SecretKeyFields::group> {
  template <typename Io, typename M>
  static void fields(Io& io, M& m) {
    io.scalar(m.x);
  }
};

template <>
struct Layout<OpenRequest>
    : Object<Type::kOpenRequest, Origin::kOthers, Secrecy::kPublic, &OpenRequest::group> {
  template <typename Io, typename M>
  static void fields(Io& io, M& m) {
    const size_t proof_size = detail::Statements::of(*m.group).open.proof_size();
    io.fixed(m.kid).fixed(m.ctx).point(m.Cn).point(m.J).bytes(m.proof, proof_size);
  }
};

template <>
struct Layout<IssueResponse>
    : Object<Type::kIssueResponse, Origin::kOthers, Secrecy::kPublic, &IssueResponse::group> {
  template <typename Io, typename M>
  static void fields(Io& io, M& m) {
    const size_t proof_size = detail::Statements::of(*m.group).issue.proof_size();
    io.fixed(m.kid).point(m.A).scalar(m.e).scalar(m.r2).bytes(m.proof, proof_size);
  }
};

template <>
struct Layout<ShowRequest>
    : Object<Type::kShowRequest, Origin::kOthers, Secrecy::kPublic, &ShowRequest::group> {
  // The op and the pseudonym count choose the statement, and so the length: header.
  template <typename Io, typename M>
  static void header(Io& io, M& m) {
    io.op(m.op).count(m.pseudonyms);
  }
  template <typename Io, typename M>
  static void fields(Io& io, M& m) {
    const size_t proof_size = detail::show_statement(m).proof_size();
    io.fixed(m.kid).fixed(m.nonce).fixed(m.ctx);
    io.point(m.A_prime).point_or_identity(m.A_bar).point_or_identity(m.D);
    io.scalar(m.s).scalar(m.R).point(m.Cn).points(m.pseudonyms).bytes(m.proof, proof_size);
  }
};

template <>
struct Layout<PendingIssue>
    : Object<Type::kPendingIssue, Origin::kOwn, Secrecy::kSecret, &PendingIssue::group_> {
  template <typename Io, typename M>
  static void fields(Io& io, M& m) {
    io.fixed(m.kid_).point(m.Cn_).scalar(m.r1_).scalar(m.sk_).scalar(m.s_).scalar(m.u_);
  }
};

template <>
struct Layout<Credential>
    : Object<Type::kCredential, Origin::kOwn, Secrecy::kSecret, &Credential::group_> {
  template <typename Io, typename M>
  static void fields(Io& io, M& m) {
    io.fixed(m.kid_).point(m.A_).scalar(m.e_).scalar(m.r_).scalar(m.sk_).scalar(m.s_).scalar(m.u_);
  }
};

}  // namespace codec

bool is_valid_show_op(uint8_t op) {
  return op >= 1 && op <= 5;
}

// ---------------------------------------------------------------- the objects' codecs

Bytes IssuerPublicKey::encode() const {
  return codec::encode(codec::PublicKeyFields{group_, W_});
}

Result<IssuerPublicKey> IssuerPublicKey::decode(ByteView bytes) {
  ANONCODE_TRY(auto f, codec::decode<codec::PublicKeyFields>(bytes));
  return IssuerPublicKey(*f.group, f.W);
}

SecretBytes IssuerKey::encode_secret() const {
  return codec::encode_secret(codec::SecretKeyFields{&pub_.group(), x_});
}

Result<IssuerKey> IssuerKey::decode_secret(const SecretBytes& bytes) {
  ANONCODE_TRY(auto f, codec::decode_secret<codec::SecretKeyFields>(bytes));
  if (f.x.ct_is_zero()) return make_error(ErrorCode::kMalformed, "issuer key: zero");
  return IssuerKey(f.x, IssuerPublicKey(*f.group, f.group->mul_base(f.x)));
}

Bytes OpenRequest::encode() const {
  return codec::encode(*this);
}

Result<OpenRequest> OpenRequest::decode(ByteView bytes) {
  return codec::decode<OpenRequest>(bytes);
}

Bytes IssueResponse::encode() const {
  return codec::encode(*this);
}

Result<IssueResponse> IssueResponse::decode(ByteView bytes) {
  return codec::decode<IssueResponse>(bytes);
}

Bytes ShowRequest::encode() const {
  return codec::encode(*this);
}

Result<ShowRequest> ShowRequest::decode(ByteView bytes) {
  return codec::decode<ShowRequest>(bytes);
}

SecretBytes PendingIssue::encode_secret() const {
  return codec::encode_secret(*this);
}

Result<PendingIssue> PendingIssue::decode_secret(const SecretBytes& bytes) {
  return codec::decode_secret<PendingIssue>(bytes);
}

SecretBytes Credential::encode_secret() const {
  return codec::encode_secret(*this);
}

Result<Credential> Credential::decode_secret(const SecretBytes& bytes) {
  return codec::decode_secret<Credential>(bytes);
}

}  // namespace anoncode::crypto
