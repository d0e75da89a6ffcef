//! List operations for the browser path without panic paths.
//!
//! `Vec::remove` checks its index and panics with a formatted message; every
//! such check left in the browser build keeps that message, its formatting and
//! the source path of the call in the download, even where the index is always
//! valid.

/// Removes and returns the item at `index`, shifting the later ones down, like
/// `items.remove(index)`; `None` (and `items` unchanged) when `index` is out of
/// range, where `remove` would panic.
pub(crate) fn remove_at<T>(items: &mut Vec<T>, index: usize) -> Option<T> {
    // Walk the item to the end by swapping neighbours, then pop it.
    let mut later = items.get_mut(index..)?.iter_mut();
    let mut moving = later.next()?;
    for next in later {
        std::mem::swap(moving, next);
        moving = next;
    }
    items.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_at_or_past_the_end_removes_nothing() {
        let mut items = vec![1, 2];
        assert_eq!(remove_at(&mut items, 2), None);
        assert_eq!(remove_at(&mut items, 9), None);
        assert_eq!(items, [1, 2]);
        assert_eq!(remove_at(&mut items, 0), Some(1));
        assert_eq!(items, [2]);
    }

    proptest::proptest! {
        #[test]
        fn remove_at_is_remove_without_the_panic(
            items in proptest::collection::vec(0u8..9, 0..8),
            index in 0usize..10,
        ) {
            let mut ours = items.clone();
            let removed = remove_at(&mut ours, index);
            let mut std = items.clone();
            let want = (index < std.len()).then(|| std.remove(index));
            proptest::prop_assert_eq!(removed, want);
            proptest::prop_assert_eq!(ours, std);
        }
    }
}
