//! `Image`: the one in-memory model of firmware — sorted, non-overlapping segments.

use crate::error::{Error, Result, Span};

/// The first address past the 32-bit address space.
pub(crate) const ADDRESS_SPACE_END: u64 = 1 << 32;

/// A run of bytes at an address. Its end never passes 4 GiB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    address: u32,
    data: Vec<u8>,
}

impl Segment {
    /// A segment of `data` at `address`, refused if it would run past 4 GiB.
    pub fn new(address: u32, data: Vec<u8>) -> Result<Self> {
        check_fits(u64::from(address), data.len() as u64)?;
        Ok(Segment { address, data })
    }

    /// Load address of the first byte.
    pub fn address(&self) -> u32 {
        self.address
    }

    /// The bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the segment holds no byte.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The bytes, giving up the segment.
    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    /// One past the last address (may be exactly 4 GiB).
    pub fn end(&self) -> u64 {
        u64::from(self.address) + self.data.len() as u64
    }

    /// The address range this segment covers.
    pub fn span(&self) -> Span {
        Span::new(u64::from(self.address), self.data.len() as u64)
    }
}

/// Refuses `len` bytes at `address` when they pass the 32-bit address space.
pub(crate) fn check_fits(address: u64, len: u64) -> Result<()> {
    match address.checked_add(len) {
        Some(end) if end <= ADDRESS_SPACE_END => Ok(()),
        _ => Err(Error::AddressOverflow { address, len }),
    }
}

/// Firmware as address-sorted, non-overlapping, non-empty segments.
///
/// Touching segments are merged, so two images holding the same bytes at the
/// same addresses compare equal whatever file they came from. Gaps are kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Image {
    segments: Vec<Segment>,
}

impl Image {
    /// An image with no data.
    pub fn new() -> Self {
        Image::default()
    }

    /// Builds an image from pieces in any order; overlapping pieces are an error naming both.
    pub fn from_pieces<I>(pieces: I) -> Result<Self>
    where
        I: IntoIterator<Item = (u32, Vec<u8>)>,
    {
        let mut pieces: Vec<(u32, Vec<u8>)> = pieces
            .into_iter()
            .filter(|(_, data)| !data.is_empty())
            .collect();
        for (address, data) in &pieces {
            check_fits(u64::from(*address), data.len() as u64)?;
        }
        pieces.sort_by_key(|(address, _)| *address);

        let mut segments: Vec<Segment> = Vec::new();
        let mut previous: Option<Span> = None;
        for (address, data) in pieces {
            let span = Span::new(u64::from(address), data.len() as u64);
            if let Some(prev) = previous
                && span.start < prev.end
            {
                return Err(Error::Overlap {
                    first: prev,
                    second: span,
                });
            }
            previous = Some(span);
            match segments.last_mut() {
                Some(last) if last.end() == span.start => last.data.extend_from_slice(&data),
                _ => segments.push(Segment { address, data }),
            }
        }
        Ok(Image { segments })
    }

    /// The segments, sorted by address.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The segments, giving up the image.
    pub fn into_segments(self) -> Vec<Segment> {
        self.segments
    }

    /// Total number of data bytes (gaps not counted).
    pub fn len(&self) -> u64 {
        self.segments.iter().map(|s| s.len() as u64).sum()
    }

    /// True when the image holds no data.
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// The range from the first to the last byte, gaps included.
    pub fn extent(&self) -> Option<Span> {
        let first = self.segments.first()?;
        let last = self.segments.last()?;
        Some(Span {
            start: u64::from(first.address),
            end: last.end(),
        })
    }

    /// The gaps between consecutive segments.
    pub fn gaps(&self) -> impl Iterator<Item = Span> + '_ {
        self.segments.windows(2).map(|pair| Span {
            start: pair[0].end(),
            end: u64::from(pair[1].address),
        })
    }

    /// One contiguous segment with every gap filled with `fill`, refusing any gap over `max_gap` bytes.
    pub fn flattened(&self, fill: u8, max_gap: u64) -> Result<Image> {
        let Some(extent) = self.extent() else {
            return Ok(Image::new());
        };
        if let Some(gap) = self.gaps().find(|gap| gap.len() > max_gap) {
            return Err(Error::GapTooLarge {
                gap,
                limit: max_gap,
            });
        }
        let mut data = Vec::with_capacity(extent.len() as usize);
        for segment in &self.segments {
            let offset = (u64::from(segment.address) - extent.start) as usize;
            data.resize(offset, fill);
            data.extend_from_slice(&segment.data);
        }
        Ok(Image {
            segments: vec![Segment {
                address: extent.start as u32,
                data,
            }],
        })
    }
}

/// Collects pieces in file order, appending to the previous piece when contiguous.
#[derive(Debug, Default)]
pub(crate) struct ImageBuilder {
    pieces: Vec<(u32, Vec<u8>)>,
}

impl ImageBuilder {
    /// Adds `data` at `address`, refusing data past 4 GiB.
    pub(crate) fn push(&mut self, address: u32, data: &[u8]) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        check_fits(u64::from(address), data.len() as u64)?;
        if let Some((last_address, last)) = self.pieces.last_mut()
            && u64::from(*last_address) + last.len() as u64 == u64::from(address)
        {
            last.extend_from_slice(data);
            return Ok(());
        }
        self.pieces.push((address, data.to_vec()));
        Ok(())
    }

    /// The image, or the first overlap found.
    pub(crate) fn finish(self) -> Result<Image> {
        Image::from_pieces(self.pieces)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_sorted_and_touching_ones_merged() {
        let image = Image::from_pieces([
            (0x110, vec![3]),
            (0x100, vec![1, 2]),
            (0x102, vec![9]),
            (0x200, vec![]),
        ])
        .unwrap();
        let got: Vec<(u32, Vec<u8>)> = image
            .segments()
            .iter()
            .map(|s| (s.address(), s.data().to_vec()))
            .collect();
        assert_eq!(got, vec![(0x100, vec![1, 2, 9]), (0x110, vec![3])]);
        assert_eq!(image.len(), 4);
        assert_eq!(image.gaps().collect::<Vec<_>>(), vec![Span::new(0x103, 13)]);
    }

    #[test]
    fn overlap_names_both_ranges() {
        let err = Image::from_pieces([(0x1000, vec![0; 16]), (0x100F, vec![0; 4])]).unwrap_err();
        assert_eq!(
            err,
            Error::Overlap {
                first: Span::new(0x1000, 16),
                second: Span::new(0x100F, 4)
            }
        );
        assert_eq!(
            err.to_string(),
            "data at 0x00001000-0x0000100F overlaps data at 0x0000100F-0x00001012"
        );
    }

    #[test]
    fn data_past_4gib_is_refused() {
        let err = Image::from_pieces([(0xFFFF_FFFE, vec![0; 3])]).unwrap_err();
        assert!(matches!(
            err,
            Error::AddressOverflow {
                address: 0xFFFF_FFFE,
                len: 3
            }
        ));
        assert!(Image::from_pieces([(0xFFFF_FFFE, vec![0; 2])]).is_ok());
    }

    #[test]
    fn flattening_fills_gaps_and_respects_the_limit() {
        let image = Image::from_pieces([(0x10, vec![1]), (0x13, vec![2])]).unwrap();
        let flat = image.flattened(0xFF, 2).unwrap();
        assert_eq!(flat.segments()[0].data(), &[1, 0xFF, 0xFF, 2]);
        let err = image.flattened(0xFF, 1).unwrap_err();
        assert_eq!(
            err,
            Error::GapTooLarge {
                gap: Span::new(0x11, 2),
                limit: 1
            }
        );
    }

    #[test]
    fn builder_appends_contiguous_pushes() {
        let mut builder = ImageBuilder::default();
        builder.push(0x0800_0000, &[1, 2]).unwrap();
        builder.push(0x0800_0002, &[3]).unwrap();
        assert_eq!(builder.pieces.len(), 1);
        let image = builder.finish().unwrap();
        assert_eq!(image.segments()[0].data(), &[1, 2, 3]);
    }
}
