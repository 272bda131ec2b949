// A payload through a QR image and back, as the rider's phone shows it and a POS camera reads it.
#include "pos/qr_image.h"

#include <gtest/gtest.h>
#include <png.h>

#include <cstring>

#include "protocol/qr_payload.h"

namespace anoncode::pos {
namespace {

using protocol::QrPayload;
using protocol::sign_qr_payload;
using protocol::verify_qr_signature;

TEST(QrImageTest, ABinaryPayloadSurvivesQrencodePngAndZbar) {
  auto key = crypto::Sm2PrivateKey::generate();
  ASSERT_TRUE(key.ok());
  auto p = sign_qr_payload(*key, "nm00000000000042", "1000000000000000001", 1'764'000'000'000,
                           1'764'000'120'000);
  ASSERT_TRUE(p.ok());
  Bytes payload = p->encode();
  auto png = render_qr_png(payload);
  ASSERT_TRUE(png.ok()) << png.error().message;
  ASSERT_GT(png->size(), 8u);
  EXPECT_EQ((*png)[1], 'P');  // \x89PNG
  auto back = decode_qr_png(*png);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, payload);
  auto decoded = QrPayload::decode(*back);
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(verify_qr_signature(*decoded, key->public_key()).ok());
}

TEST(QrImageTest, EveryByteValueSurvives) {
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(255 - i);
  auto png = render_qr_png(all, {.module_pixels = 3, .quiet_zone = 4});
  ASSERT_TRUE(png.ok());
  auto back = decode_qr_png(*png);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, all);
}

TEST(QrImageTest, ImagesWithoutACodeOrNotPngAreRefused) {
  EXPECT_EQ(decode_qr_png(to_bytes(std::string_view("not a png"))).error().code,
            ErrorCode::kMalformed);
  // A valid PNG of a white page.
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = image.height = 120;
  image.format = PNG_FORMAT_GRAY;
  std::vector<uint8_t> white(120 * 120, 0xFF);
  png_alloc_size_t size = 1 << 16;
  Bytes page(size);
  ASSERT_TRUE(png_image_write_to_memory(&image, page.data(), &size, 0, white.data(), 0, nullptr));
  page.resize(size);
  EXPECT_EQ(decode_qr_png(page).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(render_qr_png(Bytes{}).error().code, ErrorCode::kInvalidArgument);
  auto png = render_qr_png(to_bytes(std::string_view("x")));
  ASSERT_TRUE(png.ok());
  Bytes truncated(png->begin(), png->begin() + static_cast<ptrdiff_t>(png->size() / 2));
  EXPECT_EQ(decode_qr_png(truncated).error().code, ErrorCode::kMalformed);
}

}  // namespace
}  // namespace anoncode::pos
