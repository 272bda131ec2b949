#include "pos/qr_image.h"

#include "pos/pos_terminal.h"

#include <png.h>
#include <qrencode.h>
#include <zbar.h>

#include <cstring>
#include <memory>

namespace anoncode::pos {

using namespace zbar;  // zbar.h declares its C API in namespace zbar under C++

namespace {

struct QrCodeFree {
  void operator()(QRcode* c) const { QRcode_free(c); }
};
struct ScannerFree {
  void operator()(zbar_image_scanner_t* s) const { zbar_image_scanner_destroy(s); }
};
struct ImageFree {
  void operator()(zbar_image_t* i) const { zbar_image_destroy(i); }
};

}  // namespace

Result<Bytes> render_qr_png(ByteView payload, const QrRenderOptions& options) {
  if (payload.empty() || options.module_pixels < 1 || options.module_pixels > 64 ||
      options.quiet_zone < 0 || options.quiet_zone > 16) {
    return make_error(ErrorCode::kInvalidArgument, "QR: empty payload or bad image options");
  }
  std::unique_ptr<QRcode, QrCodeFree> code(
      QRcode_encodeData(static_cast<int>(payload.size()), payload.data(), 0, QR_ECLEVEL_M));
  if (!code) return make_error(ErrorCode::kInvalidArgument, "QR: payload too large to encode");

  const int modules = code->width + 2 * options.quiet_zone;
  const int side = modules * options.module_pixels;
  std::vector<uint8_t> pixels(static_cast<size_t>(side) * side, 0xFF);
  for (int y = 0; y < code->width; ++y) {
    for (int x = 0; x < code->width; ++x) {
      if ((code->data[y * code->width + x] & 1) == 0) continue;  // bit 0: dark module
      const int px = (x + options.quiet_zone) * options.module_pixels;
      const int py = (y + options.quiet_zone) * options.module_pixels;
      for (int dy = 0; dy < options.module_pixels; ++dy) {
        std::memset(&pixels[static_cast<size_t>(py + dy) * side + px], 0, options.module_pixels);
      }
    }
  }

  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(side);
  image.height = static_cast<png_uint_32>(side);
  image.format = PNG_FORMAT_GRAY;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&image, nullptr, &size, 0, pixels.data(), 0, nullptr)) {
    png_image_free(&image);
    return make_error(ErrorCode::kInternal, "PNG: cannot size the image");
  }
  Bytes png(size);
  if (!png_image_write_to_memory(&image, png.data(), &size, 0, pixels.data(), 0, nullptr)) {
    png_image_free(&image);
    return make_error(ErrorCode::kInternal, "PNG: cannot write the image");
  }
  png.resize(size);
  return png;
}

Result<Bytes> decode_qr_png(ByteView png) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, png.data(), png.size())) {
    png_image_free(&image);
    return make_error(ErrorCode::kMalformed, "not a PNG image");
  }
  image.format = PNG_FORMAT_GRAY;
  constexpr png_uint_32 kMaxSide = 8192;
  if (image.width == 0 || image.height == 0 || image.width > kMaxSide || image.height > kMaxSide) {
    png_image_free(&image);
    return make_error(ErrorCode::kMalformed, "PNG image size out of range");
  }
  std::vector<uint8_t> gray(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, gray.data(), 0, nullptr)) {
    png_image_free(&image);
    return make_error(ErrorCode::kMalformed, "PNG image does not decode");
  }

  std::unique_ptr<zbar_image_scanner_t, ScannerFree> scanner(zbar_image_scanner_create());
  if (!scanner) return make_error(ErrorCode::kInternal, "zbar: no scanner");
  zbar_image_scanner_set_config(scanner.get(), ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
  zbar_image_scanner_set_config(scanner.get(), ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
  // Without this zbar converts the bytes to text (and mangles a binary payload).
  zbar_image_scanner_set_config(scanner.get(), ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
  std::unique_ptr<zbar_image_t, ImageFree> zimage(zbar_image_create());
  if (!zimage) return make_error(ErrorCode::kInternal, "zbar: no image");
  zbar_image_set_format(zimage.get(), zbar_fourcc('Y', '8', '0', '0'));
  zbar_image_set_size(zimage.get(), image.width, image.height);
  zbar_image_set_data(zimage.get(), gray.data(), gray.size(), nullptr);  // we own the pixels
  if (zbar_scan_image(scanner.get(), zimage.get()) <= 0) {
    return make_error(ErrorCode::kNotFound, "no QR code in the image");
  }
  for (const zbar_symbol_t* sym = zbar_image_first_symbol(zimage.get()); sym != nullptr;
       sym = zbar_symbol_next(sym)) {
    if (zbar_symbol_get_type(sym) != ZBAR_QRCODE) continue;
    const char* data = zbar_symbol_get_data(sym);
    unsigned len = zbar_symbol_get_data_length(sym);
    return Bytes(reinterpret_cast<const uint8_t*>(data),
                 reinterpret_cast<const uint8_t*>(data) + len);
  }
  return make_error(ErrorCode::kNotFound, "no QR code in the image");
}

Status write_qr_png(const std::string& path, ByteView payload, const QrRenderOptions& options) {
  ANONCODE_TRY(Bytes png, render_qr_png(payload, options));
  return write_file_atomically(
      path, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()), 0644);
}

}  // namespace anoncode::pos
