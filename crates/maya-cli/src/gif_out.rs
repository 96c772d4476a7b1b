//! A small animated-GIF writer for drawings of few colours: one global
//! palette (the drawing's own colours exactly, then greys and a colour
//! cube for anti-aliased edges and text), and each frame stored as the
//! rectangle that changed since the previous one, with unchanged pixels
//! transparent. A few hundred KB for a hundred frames of a scene, where a
//! palette per frame of full images takes megabytes.

use anyhow::{Context, Result};
use gif::{DisposalMethod, Encoder, Frame, Repeat};
use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

/// Palette index of "unchanged since the previous frame".
const TRANSPARENT: u8 = 255;

/// Up to 255 colours and the nearest of them to any colour (cached).
struct Palette {
    colors: Vec<[u8; 3]>,
    nearest: HashMap<[u8; 3], u8>,
}

impl Palette {
    /// `exact` first (white and black are added), then 16 greys and a
    /// 5 × 5 × 5 cube, up to 255 colours.
    fn new(exact: &[[u8; 3]]) -> Palette {
        let mut colors: Vec<[u8; 3]> = vec![[255, 255, 255], [0, 0, 0]];
        let add = |c: [u8; 3], colors: &mut Vec<[u8; 3]>| {
            if colors.len() < 255 && !colors.contains(&c) {
                colors.push(c);
            }
        };
        for &c in exact {
            add(c, &mut colors);
        }
        for g in 1..16u8 {
            add([g * 16; 3], &mut colors);
        }
        for r in 0..5u8 {
            for g in 0..5u8 {
                for b in 0..5u8 {
                    add([r * 63, g * 63, b * 63], &mut colors);
                }
            }
        }
        Palette {
            colors,
            nearest: HashMap::new(),
        }
    }

    fn index(&mut self, c: [u8; 3]) -> u8 {
        let colors = &self.colors;
        *self.nearest.entry(c).or_insert_with(|| {
            let d2 = |p: &[u8; 3]| -> i32 {
                (0..3)
                    .map(|k| (p[k] as i32 - c[k] as i32).pow(2))
                    .sum::<i32>()
            };
            let best = (0..colors.len()).min_by_key(|&i| d2(&colors[i]));
            best.expect("the palette has colours") as u8
        })
    }

    /// The palette as GIF wants it: 256 RGB triples.
    fn bytes(&self) -> Vec<u8> {
        let mut out: Vec<u8> = self.colors.iter().flatten().copied().collect();
        out.resize(256 * 3, 0);
        out
    }
}

/// An animated GIF being written, one RGB frame at a time.
pub struct GifWriter {
    encoder: Encoder<BufWriter<File>>,
    palette: Palette,
    size: (u16, u16),
    delay: u16,
    previous: Option<Vec<u8>>,
    /// The last frame, held back to give it a longer delay at the end.
    pending: Option<Frame<'static>>,
}

impl GifWriter {
    /// A GIF at `path` of `size` pixels, `delay_ms` between frames, looping;
    /// `colors` are kept exactly in its palette.
    pub fn create(
        path: &Path,
        size: (u32, u32),
        delay_ms: u32,
        colors: &[[u8; 3]],
    ) -> Result<GifWriter> {
        let palette = Palette::new(colors);
        let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
        let size = (size.0 as u16, size.1 as u16);
        let mut encoder = Encoder::new(BufWriter::new(file), size.0, size.1, &palette.bytes())?;
        encoder.set_repeat(Repeat::Infinite)?;
        Ok(GifWriter {
            encoder,
            palette,
            size,
            delay: (delay_ms.div_ceil(10)).max(2) as u16,
            previous: None,
            pending: None,
        })
    }

    /// Adds a frame of RGB pixels, row by row.
    pub fn add(&mut self, rgb: &[u8]) -> Result<()> {
        let (w, h) = (self.size.0 as usize, self.size.1 as usize);
        let indexed: Vec<u8> = rgb
            .chunks_exact(3)
            .map(|p| self.palette.index([p[0], p[1], p[2]]))
            .collect();
        let frame = match &self.previous {
            None => Frame {
                width: w as u16,
                height: h as u16,
                buffer: indexed.clone().into(),
                ..Frame::default()
            },
            Some(prev) => changed_part(prev, &indexed, w, h),
        };
        self.flush_pending(self.delay)?;
        self.pending = Some(Frame {
            dispose: DisposalMethod::Keep,
            ..frame
        });
        self.previous = Some(indexed);
        Ok(())
    }

    fn flush_pending(&mut self, delay: u16) -> Result<()> {
        if let Some(mut f) = self.pending.take() {
            f.delay = delay;
            self.encoder.write_frame(&f)?;
        }
        Ok(())
    }

    /// Writes the last frame, held for `hold_ms`, and closes the file.
    pub fn finish(mut self, hold_ms: u32) -> Result<()> {
        self.flush_pending((hold_ms / 10).max(self.delay as u32) as u16)?;
        let mut out = self.encoder.into_inner()?;
        std::io::Write::flush(&mut out)?;
        Ok(())
    }
}

/// The bounding rectangle of the pixels of `next` that differ from `prev`,
/// unchanged ones transparent (a 1 × 1 transparent frame when none does).
fn changed_part(prev: &[u8], next: &[u8], w: usize, h: usize) -> Frame<'static> {
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for y in 0..h {
        for x in 0..w {
            if prev[y * w + x] != next[y * w + x] {
                (x0, y0) = (x0.min(x), y0.min(y));
                (x1, y1) = (x1.max(x + 1), y1.max(y + 1));
            }
        }
    }
    if x0 >= x1 {
        (x0, y0, x1, y1) = (0, 0, 1, 1);
    }
    let mut buffer = Vec::with_capacity((x1 - x0) * (y1 - y0));
    for y in y0..y1 {
        for x in x0..x1 {
            let i = y * w + x;
            buffer.push(if prev[i] == next[i] {
                TRANSPARENT
            } else {
                next[i]
            });
        }
    }
    Frame {
        left: x0 as u16,
        top: y0 as u16,
        width: (x1 - x0) as u16,
        height: (y1 - y0) as u16,
        transparent: Some(TRANSPARENT),
        buffer: buffer.into(),
        ..Frame::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_colours_map_to_themselves_and_others_to_the_nearest() {
        let mut p = Palette::new(&[[200, 30, 30]]);
        let red = p.index([200, 30, 30]);
        assert_eq!(p.colors[red as usize], [200, 30, 30]);
        let d2 = |a: [u8; 3], b: [u8; 3]| -> i32 {
            (0..3).map(|k| (a[k] as i32 - b[k] as i32).pow(2)).sum()
        };
        for c in [[250, 250, 250], [90, 90, 95], [10, 200, 30], [201, 29, 31]] {
            let i = p.index(c) as usize;
            let got = p.colors[i];
            let best = p.colors.iter().map(|&q| d2(q, c)).min().unwrap();
            assert_eq!(d2(got, c), best, "{c:?} -> {got:?}");
        }
        assert!(p.colors.len() <= 255);
    }

    #[test]
    fn only_the_changed_rectangle_is_stored() {
        let (w, h) = (4, 3);
        let prev = vec![0u8; w * h];
        let mut next = prev.clone();
        next[w + 1] = 7; // (1, 1)
        next[2 * w + 2] = 9; // (2, 2)
        let f = changed_part(&prev, &next, w, h);
        assert_eq!((f.left, f.top, f.width, f.height), (1, 1, 2, 2));
        assert_eq!(&f.buffer[..], &[7, TRANSPARENT, TRANSPARENT, 9]);
    }
}
