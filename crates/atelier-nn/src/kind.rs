//! What kind of weights file a safetensors file is, so that a file given to the wrong command
//! is named for what it is ("this is a DCGAN checkpoint, not a style network") instead of
//! failing on its first odd key or dtype.
//!
//! A file says its kind in its `format` metadata; files without one (converted from PyTorch,
//! or older) are recognised by their keys.

/// Format names written in the `format` metadata of atelier's files.
pub const DCGAN: &str = "atelier-dcgan-1";
pub const STYLE_NET: &str = "atelier-style-net-1";
pub const VGG19: &str = "vgg19";
pub const CYCLEGAN: &str = "atelier-cyclegan-1";

/// (format, description, whether a key list without format metadata looks like it).
type Kind = (&'static str, &'static str, fn(&[&str]) -> bool);

const KINDS: [Kind; 4] = [
    (
        DCGAN,
        "a DCGAN checkpoint (from atelier gan train)",
        |keys| {
            keys.iter().any(|k| k.starts_with("netG."))
                && keys.iter().any(|k| k.starts_with("netD."))
        },
    ),
    (
        STYLE_NET,
        "a style network (from atelier style train, or pytorch/examples' TransformerNet)",
        |keys| keys.contains(&"res1.conv1.conv2d.weight"),
    ),
    (
        CYCLEGAN,
        "a CycleGAN checkpoint (from atelier cyclegan train)",
        |keys| {
            keys.iter().any(|k| k.starts_with("netG_A."))
                && keys.iter().any(|k| k.starts_with("netD_A."))
        },
    ),
    (VGG19, "VGG-19 weights (torchvision's keys)", |keys| {
        keys.contains(&"features.0.weight") && keys.contains(&"features.34.weight")
    }),
];

/// The description of format `format`, when atelier knows it.
pub fn describe(format: &str) -> Option<&'static str> {
    KINDS.iter().find(|k| k.0 == format).map(|k| k.1)
}

/// What a file with this `format` metadata and these keys is, in words, when atelier knows.
pub fn identify(
    format: Option<&str>,
    keys: &mut dyn Iterator<Item = &str>,
) -> Option<&'static str> {
    if let Some(d) = format.and_then(describe) {
        return Some(d);
    }
    let keys: Vec<&str> = keys.collect();
    KINDS.iter().find(|k| (k.2)(&keys)).map(|k| k.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_known_by_format_or_keys() {
        let none = &mut std::iter::empty();
        assert_eq!(identify(Some(DCGAN), none), describe(DCGAN));
        let dcgan = ["netG.main.0.weight", "netD.main.0.weight"];
        assert_eq!(identify(None, &mut dcgan.into_iter()), describe(DCGAN));
        let style = ["conv1.conv2d.weight", "res1.conv1.conv2d.weight"];
        assert_eq!(identify(None, &mut style.into_iter()), describe(STYLE_NET));
        let cyclegan = ["netG_A.model.1.weight", "netD_A.model.0.weight"];
        assert_eq!(
            identify(None, &mut cyclegan.into_iter()),
            describe(CYCLEGAN)
        );
        assert_eq!(identify(None, &mut ["x"].into_iter()), None);
    }
}
