//! PyTorch's own model files, read as downloaded (no conversion), reproduce PyTorch's outputs
//! (float64 references computed from the same files; tests/data/pth/README.md): pytorch/examples'
//! fast-neural-style TransformerNet in torch's legacy format, a bare pytorch/examples DCGAN
//! generator in the zip format (its sizes inferred from the shapes), VGG-19 features with
//! torchvision's keys, and a pytorch-CycleGAN-and-pix2pix ResnetGenerator in the zip format
//! (`latest_net_G.pth`'s layout; width and block count read from the keys). Every size comes
//! from the reference files. On the CPU and the GPU.

use atelier_cyclegan::apply::{Direction, load_generator as load_cyclegan_generator};
use atelier_gan::step::generate;
use atelier_gan::trainer::checkpoint::load_generator;
use atelier_nn::Module;
use atelier_style::TransformerNet;
use atelier_style::vgg::Vgg19;
use atelier_tensor::no_grad;
use atelier_tests::{Refs, devices, pth_path, rel_err};

#[test]
fn transformer_net_pth_matches_pytorch() {
    let io = Refs::from_path(&pth_path("transformer_net_io.safetensors"));
    for device in devices() {
        // the file carries pytorch/examples' stale in*.running_mean/var keys: ignored
        let net = TransformerNet::load(&pth_path("transformer_net.pth"), device).unwrap();
        let x = io.tensor("x", device);
        let y = no_grad(|| net.forward(&x));
        assert_eq!(y.shape(), io.shape("y"), "{device:?}");
        let e = rel_err(&y.to_vec(), io.values("y"));
        eprintln!("TransformerNet from .pth on {device:?}: rel err {e:.2e}");
        assert!(e < 1e-4, "{device:?}: rel err {e:.2e}");
    }
}

#[test]
fn bare_dcgan_generator_pth_matches_pytorch() {
    let io = Refs::from_path(&pth_path("netG_tiny_io.safetensors"));
    let config: serde_json::Value = serde_json::from_str(&io.metadata["config"]).unwrap();
    let size = |k: &str| config[k].as_u64().unwrap() as usize;
    for device in devices() {
        let loaded = load_generator(&pth_path("netG_tiny.pth"), device, true).unwrap();
        let c = loaded.config;
        assert_eq!(
            (c.nz, c.ngf, c.channels, c.image_size),
            (size("nz"), size("ngf"), size("nc"), size("image_size")),
            "sizes inferred from the shapes"
        );
        assert!(loaded.run.is_none() && loaded.step.is_none());
        // eval mode: BatchNorm's running statistics from the file
        let y = generate(&loaded.g, &io.tensor("z", device), false);
        assert_eq!(y.shape(), io.shape("y"), "{device:?}");
        let e = rel_err(&y.to_vec(), io.values("y"));
        eprintln!("DCGAN generator from .pth on {device:?}: rel err {e:.2e}");
        assert!(e < 1e-4, "{device:?}: rel err {e:.2e}");
    }
}

#[test]
fn vgg_features_from_a_torchvision_keyed_pth_match_pytorch() {
    let io = Refs::from_path(&pth_path("tiny_vgg19_features_io.safetensors"));
    let layer = io.metadata["layer"].as_str();
    for device in devices() {
        let vgg = Vgg19::load(&pth_path("tiny_vgg19_features.pth"), layer, device).unwrap();
        let y = vgg.extract(&io.tensor("x", device), &[layer]).remove(0);
        assert_eq!(y.shape(), io.shape("y"), "{device:?}");
        let e = rel_err(&y.to_vec(), io.values("y"));
        eprintln!("VGG-19 {layer} from .pth on {device:?}: rel err {e:.2e}");
        assert!(e < 1e-4, "{device:?}: rel err {e:.2e}");
    }
}

#[test]
fn cyclegan_resnet_generator_pth_matches_pytorch() {
    let io = Refs::from_path(&pth_path("resnet_generator_io.safetensors"));
    let config: serde_json::Value = serde_json::from_str(&io.metadata["config"]).unwrap();
    let size = |k: &str| config[k].as_u64().unwrap() as usize;
    for device in devices() {
        // a plain state_dict: the direction does not matter
        let path = pth_path("resnet_generator.pth");
        let loaded = load_cyclegan_generator(&path, Direction::AtoB, device).unwrap();
        let c = loaded.g.config;
        assert_eq!(
            (c.ngf, c.n_blocks),
            (size("ngf"), size("n_blocks")),
            "width and blocks read from the keys"
        );
        let x = io.tensor("x", device);
        let y = no_grad(|| loaded.g.forward(&x));
        assert_eq!(y.shape(), io.shape("y"), "{device:?}");
        let e = rel_err(&y.to_vec(), io.values("y"));
        eprintln!("CycleGAN ResnetGenerator from .pth on {device:?}: rel err {e:.2e}");
        assert!(e < 1e-4, "{device:?}: rel err {e:.2e}");
    }
}
