// QR images of a payload (DESIGN §3.4): rendered with libqrencode in byte mode and written as a
// grayscale PNG (libpng); read back from a PNG with zbar, binary-safe (ZBAR_CFG_BINARY), as a POS
// camera does.
#pragma once

#include "common/bytes.h"

namespace anoncode::pos {

struct QrRenderOptions {
  int module_pixels = 4;  // pixels per QR module
  int quiet_zone = 4;     // modules of white border (the standard asks for 4)
};

// The PNG file bytes of a QR code holding `payload` verbatim (byte mode, error correction M).
Result<Bytes> render_qr_png(ByteView payload, const QrRenderOptions& options = {});

// Writes render_qr_png(payload) to `path` atomically (mode 0644: a QR code is shown openly).
Status write_qr_png(const std::string& path, ByteView payload, const QrRenderOptions& options = {});

// The bytes of the first QR code found in a PNG image; `malformed` if the image does not parse,
// `not_found` if it holds no QR code.
Result<Bytes> decode_qr_png(ByteView png);

}  // namespace anoncode::pos
