use std::io::Cursor;

use bytes::Bytes;
use image::{
    DynamicImage, ImageDecoder, ImageEncoder, ImageError, ImageFormat, ImageReader, Limits,
    codecs::{
        jpeg::JpegEncoder,
        png::{CompressionType, FilterType as PngFilter, PngEncoder},
    },
    error::LimitErrorKind,
    imageops::FilterType,
};

use super::AssetKind;

/// Largest width or height decoded; anything bigger is refused from its header alone.
const MAX_SIDE: u32 = 8192;
/// Most memory one decoded image may take: an 8192×8192 RGBA picture. A decompression bomb
/// (a small file declaring a huge picture) is refused before this is allocated.
const MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;
const JPEG_QUALITY: u8 = 85;

/// An upload after [`process_upload`]: re-encoded by us, metadata-free, within the kind's box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessedImage {
    pub bytes: Bytes,
    /// `image/png` or `image/jpeg`.
    pub content_type: &'static str,
    /// `png` or `jpg`, matching `content_type`.
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Why an upload was refused. All of these are the uploader's doing, not server faults.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the image is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("only PNG, JPEG and WebP images are accepted")]
    Unsupported,
    #[error("the image cannot be decoded: {0}")]
    Corrupt(String),
    #[error("the image has too many pixels (at most {MAX_SIDE}×{MAX_SIDE}) to decode")]
    TooManyPixels,
}

/// Checks and re-encodes an uploaded image.
///
/// The format is read from the content, never from a declared type or name. Decoding happens
/// under limits, so a decompression bomb is refused. The picture is turned upright by its EXIF
/// orientation, scaled down (never up) to fit the kind's box, and encoded afresh: PNG if it has
/// an alpha channel, JPEG otherwise. Nothing of the original file but its pixels survives, so
/// EXIF (camera, GPS position), XMP and comments are gone.
///
/// CPU-bound and can take a second on a large picture: run it with `spawn_blocking`, and bound
/// how many run at once, since each may use up to 256 MiB.
pub fn process_upload(kind: AssetKind, bytes: &[u8]) -> Result<ProcessedImage, UploadError> {
    if bytes.len() > kind.max_bytes() {
        return Err(UploadError::TooLarge {
            limit: kind.max_bytes(),
        });
    }
    let format = image::guess_format(bytes).map_err(|_| UploadError::Unsupported)?;
    if !matches!(
        format,
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP
    ) {
        return Err(UploadError::Unsupported);
    }

    let picture = decode(format, bytes)?;
    let (max_width, max_height) = kind.max_dimensions();
    let picture = if picture.width() > max_width || picture.height() > max_height {
        picture.resize(max_width, max_height, FilterType::CatmullRom)
    } else {
        picture
    };
    encode(&picture)
}

fn decode(format: ImageFormat, bytes: &[u8]) -> Result<DynamicImage, UploadError> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);

    // Opening the decoder reads only the header; the size check below happens before the pixel
    // buffer is allocated.
    let mut decoder = reader.into_decoder().map_err(upload_error)?;
    if decoder.total_bytes() > MAX_DECODED_BYTES {
        return Err(UploadError::TooManyPixels);
    }
    // Phones store pictures sideways and say so in EXIF; the metadata is dropped below, so the
    // rotation must be applied to the pixels now. Unreadable EXIF just means no rotation.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = DynamicImage::from_decoder(decoder).map_err(upload_error)?;
    picture.apply_orientation(orientation);
    Ok(picture)
}

fn encode(picture: &DynamicImage) -> Result<ProcessedImage, UploadError> {
    let (width, height) = (picture.width(), picture.height());
    let mut out = Vec::new();
    let (content_type, extension) = if picture.color().has_alpha() {
        let rgba = picture.to_rgba8();
        PngEncoder::new_with_quality(&mut out, CompressionType::Default, PngFilter::Adaptive)
            .write_image(&rgba, width, height, image::ExtendedColorType::Rgba8)
            .map_err(encode_error)?;
        ("image/png", "png")
    } else {
        let rgb = picture.to_rgb8();
        JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
            .write_image(&rgb, width, height, image::ExtendedColorType::Rgb8)
            .map_err(encode_error)?;
        ("image/jpeg", "jpg")
    };
    Ok(ProcessedImage {
        bytes: Bytes::from(out),
        content_type,
        extension,
        width,
        height,
    })
}

fn upload_error(e: ImageError) -> UploadError {
    match e {
        ImageError::Limits(limit) => match limit.kind() {
            LimitErrorKind::DimensionError | LimitErrorKind::InsufficientMemory => {
                UploadError::TooManyPixels
            }
            _ => UploadError::Corrupt(limit.to_string()),
        },
        ImageError::Unsupported(_) => UploadError::Unsupported,
        // A truncated file surfaces as an I/O error (unexpected end) from the in-memory reader.
        other => UploadError::Corrupt(other.to_string()),
    }
}

/// Encoding our own decoded pixels into memory cannot fail for input reasons; if it does, it
/// is reported like a bad upload rather than crashing the request.
fn encode_error(e: ImageError) -> UploadError {
    UploadError::Corrupt(format!("re-encoding failed: {e}"))
}

#[cfg(test)]
mod tests {
    use image::{ImageBuffer, Rgb, RgbImage, Rgba, RgbaImage};

    use super::*;

    /// A picture with some structure, so encoders have real work to do.
    fn opaque(width: u32, height: u32) -> RgbImage {
        ImageBuffer::from_fn(width, height, |x, y| {
            Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        })
    }

    fn translucent(width: u32, height: u32) -> RgbaImage {
        ImageBuffer::from_fn(width, height, |x, y| {
            Rgba([(x % 256) as u8, (y % 256) as u8, 128, 100])
        })
    }

    fn encoded(picture: DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        picture.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn png_opaque(width: u32, height: u32) -> Vec<u8> {
        encoded(opaque(width, height).into(), ImageFormat::Png)
    }

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        encoded(opaque(width, height).into(), ImageFormat::Jpeg)
    }

    /// Decodes our output as a client would, checking it matches what we claimed.
    fn decoded(image: &ProcessedImage) -> DynamicImage {
        let format = image::guess_format(&image.bytes).unwrap();
        let expected = match image.content_type {
            "image/png" => ImageFormat::Png,
            "image/jpeg" => ImageFormat::Jpeg,
            other => panic!("unexpected content type {other}"),
        };
        assert_eq!(format, expected);
        assert_eq!(
            image.extension,
            expected.extensions_str()[0].replace("jpeg", "jpg")
        );
        let picture = image::load_from_memory(&image.bytes).unwrap();
        assert_eq!(
            (picture.width(), picture.height()),
            (image.width, image.height)
        );
        picture
    }

    #[test]
    fn a_png_with_transparency_is_kept_as_png_with_its_alpha() {
        let upload = encoded(translucent(120, 80).into(), ImageFormat::Png);

        let image = process_upload(AssetKind::Avatar, &upload).unwrap();

        assert_eq!(
            (image.content_type, image.width, image.height),
            ("image/png", 120, 80)
        );
        let picture = decoded(&image);
        assert_eq!(picture.to_rgba8().get_pixel(5, 7), &Rgba([5, 7, 128, 100]));
    }

    #[test]
    fn an_opaque_png_becomes_a_jpeg() {
        let image = process_upload(AssetKind::Avatar, &png_opaque(120, 80)).unwrap();

        assert_eq!(
            (image.content_type, image.width, image.height),
            ("image/jpeg", 120, 80)
        );
        decoded(&image);
    }

    #[test]
    fn a_jpeg_comes_out_as_a_jpeg_of_the_same_size() {
        let image = process_upload(AssetKind::Banner, &jpeg(300, 200)).unwrap();

        assert_eq!(
            (image.content_type, image.width, image.height),
            ("image/jpeg", 300, 200)
        );
        decoded(&image);
    }

    #[test]
    fn webp_is_accepted_and_stored_as_jpeg_or_png_by_its_alpha() {
        let opaque_webp = encoded(opaque(64, 48).into(), ImageFormat::WebP);
        let translucent_webp = encoded(translucent(64, 48).into(), ImageFormat::WebP);
        assert_eq!(
            image::guess_format(&opaque_webp).unwrap(),
            ImageFormat::WebP
        );

        let from_opaque = process_upload(AssetKind::Avatar, &opaque_webp).unwrap();
        let from_translucent = process_upload(AssetKind::Avatar, &translucent_webp).unwrap();

        assert_eq!(
            (
                from_opaque.content_type,
                from_opaque.width,
                from_opaque.height
            ),
            ("image/jpeg", 64, 48)
        );
        assert_eq!(from_translucent.content_type, "image/png");
        decoded(&from_opaque);
        decoded(&from_translucent);
    }

    #[test]
    fn a_large_avatar_is_scaled_down_to_fit_512_keeping_its_aspect_ratio() {
        let image = process_upload(AssetKind::Avatar, &jpeg(2048, 1024)).unwrap();

        assert_eq!((image.width, image.height), (512, 256));
        decoded(&image);
    }

    #[test]
    fn a_large_banner_is_scaled_down_to_fit_1920_by_1080() {
        let wide = process_upload(AssetKind::Banner, &jpeg(3840, 1080)).unwrap();
        let tall = process_upload(AssetKind::Banner, &jpeg(1000, 2000)).unwrap();

        assert_eq!((wide.width, wide.height), (1920, 540));
        assert_eq!((tall.width, tall.height), (540, 1080));
    }

    #[test]
    fn a_small_image_is_never_scaled_up() {
        let image = process_upload(AssetKind::Banner, &png_opaque(10, 6)).unwrap();

        assert_eq!((image.width, image.height), (10, 6));
    }

    #[test]
    fn anything_but_png_jpeg_and_webp_is_unsupported_whatever_it_claims_to_be() {
        let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
        let uploads: [(&str, &[u8]); 5] = [
            (
                "text saved as avatar.png",
                b"definitely not a picture, just text",
            ),
            ("an empty file", b""),
            ("a GIF", gif),
            (
                "a BMP header",
                b"BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00",
            ),
            ("an SVG", b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
        ];
        for (what, bytes) in uploads {
            assert!(
                matches!(
                    process_upload(AssetKind::Avatar, bytes),
                    Err(UploadError::Unsupported)
                ),
                "{what} should be unsupported"
            );
        }
    }

    #[test]
    fn a_truncated_png_is_corrupt() {
        let whole = png_opaque(200, 200);

        let result = process_upload(AssetKind::Avatar, &whole[..whole.len() / 2]);

        assert!(matches!(result, Err(UploadError::Corrupt(_))), "{result:?}");
    }

    #[test]
    fn an_upload_over_the_limit_is_refused_before_it_is_even_looked_at() {
        let avatar = vec![0u8; 1_000_001];
        let banner = vec![0u8; 5_000_001];

        assert!(matches!(
            process_upload(AssetKind::Avatar, &avatar),
            Err(UploadError::TooLarge { limit: 1_000_000 })
        ));
        assert!(matches!(
            process_upload(AssetKind::Banner, &banner),
            Err(UploadError::TooLarge { limit: 5_000_000 })
        ));
    }

    /// Rewrites a PNG's header chunk (and its checksum) to declare other dimensions or pixels.
    fn with_png_header(
        mut png: Vec<u8>,
        width: u32,
        height: u32,
        bit_depth: u8,
        color_type: u8,
    ) -> Vec<u8> {
        // Signature (8), chunk length (4), then "IHDR" and its 13 data bytes, then the CRC.
        assert_eq!(&png[12..16], b"IHDR");
        png[16..20].copy_from_slice(&width.to_be_bytes());
        png[20..24].copy_from_slice(&height.to_be_bytes());
        png[24] = bit_depth;
        png[25] = color_type;
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        png
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn a_picture_declaring_more_than_8192_pixels_a_side_is_refused_before_decoding() {
        let png_bomb = with_png_header(png_opaque(16, 16), 9000, 9000, 8, 2);
        // A JPEG's frame header (SOF0, after FF C0 and a 3-byte length/precision) holds its size.
        let mut jpeg_bomb = jpeg(16, 16);
        let sof = jpeg_bomb
            .windows(2)
            .position(|w| w == [0xFF, 0xC0])
            .unwrap();
        jpeg_bomb[sof + 5..sof + 9].copy_from_slice(&[0x4E, 0x20, 0x4E, 0x20]); // 20000×20000

        for (what, bomb) in [("PNG", png_bomb), ("JPEG", jpeg_bomb)] {
            let result = process_upload(AssetKind::Banner, &bomb);
            assert!(
                matches!(result, Err(UploadError::TooManyPixels)),
                "{what}: {result:?}"
            );
        }
    }

    #[test]
    fn a_picture_that_would_decode_to_more_than_256_mib_is_refused() {
        // 8192×8192 is allowed a side, but at 16-bit RGBA it would take 512 MiB.
        let bomb = with_png_header(png_opaque(16, 16), 8192, 8192, 16, 6);

        let result = process_upload(AssetKind::Banner, &bomb);

        assert!(
            matches!(result, Err(UploadError::TooManyPixels)),
            "{result:?}"
        );
    }

    /// An EXIF APP1 segment saying "rotate 90° clockwise" and describing the camera and place.
    fn exif_segment(description: &[u8]) -> Vec<u8> {
        let mut tiff = Vec::new();
        tiff.extend_from_slice(b"MM\x00\x2A\x00\x00\x00\x08"); // big-endian, first IFD at 8
        tiff.extend_from_slice(&2u16.to_be_bytes()); // two entries, in tag order
        let text_offset = 8 + 2 + 2 * 12 + 4;
        // ImageDescription (0x010E), ASCII, stored after the IFD.
        tiff.extend_from_slice(&[0x01, 0x0E, 0x00, 0x02]);
        tiff.extend_from_slice(&(description.len() as u32 + 1).to_be_bytes());
        tiff.extend_from_slice(&(text_offset as u32).to_be_bytes());
        // Orientation (0x0112), SHORT, value 6.
        tiff.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0x00, 0x06, 0, 0]);
        tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
        tiff.extend_from_slice(description);
        tiff.push(0);

        let mut segment = vec![0xFF, 0xE1];
        segment.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
        segment.extend_from_slice(b"Exif\x00\x00");
        segment.extend_from_slice(&tiff);
        segment
    }

    /// The markers of the segments before the image data (APP0 = E0, APP1 = E1, ...).
    fn jpeg_markers(jpeg: &[u8]) -> Vec<u8> {
        assert_eq!(&jpeg[..2], [0xFF, 0xD8]);
        let mut markers = Vec::new();
        let mut at = 2;
        while at + 4 <= jpeg.len() && jpeg[at] == 0xFF && jpeg[at + 1] != 0xDA {
            markers.push(jpeg[at + 1]);
            at += 2 + usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        }
        markers
    }

    #[test]
    fn exif_metadata_is_stripped_after_its_rotation_is_applied() {
        let description = b"Camera XYZ at 52.5200N 13.4050E";
        let mut upload = jpeg(40, 20);
        upload.splice(2..2, exif_segment(description)); // right after SOI
        assert!(
            jpeg_markers(&upload).contains(&0xE1),
            "the upload carries EXIF"
        );

        let image = process_upload(AssetKind::Avatar, &upload).unwrap();

        assert!(
            !jpeg_markers(&image.bytes).contains(&0xE1),
            "an APP1 (EXIF/XMP) segment survived"
        );
        assert!(
            !image
                .bytes
                .windows(description.len())
                .any(|w| w == description)
        );
        assert_eq!(
            (image.width, image.height),
            (20, 40),
            "the picture is turned upright"
        );
        decoded(&image);
    }
}
