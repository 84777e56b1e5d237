//! Generators from plain state_dicts: a map from the repository's keys to shapes and f32
//! values, as a PyTorch `latest_net_G_A.pth` holds (read by whatever reads .pth files), as a
//! safetensors file converted from one holds, or as the `netG_A.` part of an atelier
//! checkpoint holds. The architecture (input and output channels, width, block count) is
//! read from the keys and shapes; anything that does not fit a ResnetGenerator is an error
//! naming the key.

use std::collections::BTreeMap;

use atelier_nn::{Checkpoint, Init, Module};
use atelier_tensor::{Device, Tensor};

use super::generator::{GeneratorConfig, ResnetGenerator};

/// A state_dict: key → (shape, values).
pub type StateDict = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

/// What is wrong with a state_dict for the network asked for.
#[derive(Debug, thiserror::Error)]
pub enum ArchitectureError {
    #[error("{source_name}: not a ResnetGenerator state_dict: key {key:?} is missing")]
    Missing { source_name: String, key: String },
    #[error(
        "{source_name}: key {key:?} has shape {file:?}, but a ResnetGenerator with {config} \
         expects {model:?}"
    )]
    Shape {
        source_name: String,
        key: String,
        file: Vec<usize>,
        model: Vec<usize>,
        config: String,
    },
    #[error("{source_name}: keys a ResnetGenerator with {config} does not have: {keys:?}")]
    Unexpected {
        source_name: String,
        keys: Vec<String>,
        config: String,
    },
    #[error("{source_name}: {message}")]
    Other {
        source_name: String,
        message: String,
    },
}

/// The entries of `ck` under `prefix.`, with the prefix removed (all of them when `prefix` is
/// empty).
pub fn state_dict_of(ck: &Checkpoint, prefix: &str) -> StateDict {
    let under = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}.")
    };
    ck.keys()
        .filter_map(|k| k.strip_prefix(&under).map(|rest| (k, rest)))
        .map(|(k, rest)| {
            let shape = ck.shape(k).expect("listed key").to_vec();
            let values = ck.values(k).expect("listed key");
            (rest.to_string(), (shape, values))
        })
        .collect()
}

/// Buffers that old PyTorch versions saved for InstanceNorm2d even without running
/// statistics; the repository deletes them on load (`__patch_instance_norm_state_dict`).
fn is_stale_instance_norm_buffer(key: &str) -> bool {
    ["running_mean", "running_var", "num_batches_tracked"]
        .iter()
        .any(|b| key.ends_with(&format!(".{b}")))
}

fn describe(c: &GeneratorConfig) -> String {
    format!(
        "{} → {} channels, ngf {}, {} blocks",
        c.input_nc, c.output_nc, c.ngf, c.n_blocks
    )
}

impl GeneratorConfig {
    /// The generator a state_dict holds, read from its keys: the width and input channels
    /// from `model.1.weight`, the block count from the `model.N.conv_block.1.weight` keys
    /// (consecutive from `model.10`), the output channels from the last convolution.
    pub fn infer(sd: &StateDict, source_name: &str) -> Result<GeneratorConfig, ArchitectureError> {
        let err = |message: String| ArchitectureError::Other {
            source_name: source_name.into(),
            message,
        };
        let shape = |key: &str| {
            sd.get(key)
                .map(|(s, _)| s.as_slice())
                .ok_or_else(|| ArchitectureError::Missing {
                    source_name: source_name.into(),
                    key: key.into(),
                })
        };
        let first = shape("model.1.weight")?;
        let &[ngf, input_nc, 7, 7] = first else {
            return Err(err(format!(
                "model.1.weight has shape {first:?}; a ResnetGenerator's first convolution is \
                 [ngf, in, 7, 7]"
            )));
        };
        if sd.keys().any(|k| k.contains(".conv_block.6.")) {
            return Err(err(
                "its residual blocks have a dropout layer (conv_block.6 keys): a generator \
                 trained without --no_dropout, which atelier does not build (CycleGAN's \
                 default has no dropout)"
                    .into(),
            ));
        }
        let mut n_blocks = 0;
        while sd.contains_key(&format!("model.{}.conv_block.1.weight", 10 + n_blocks)) {
            n_blocks += 1;
        }
        let last = format!("model.{}.weight", 17 + n_blocks);
        let last_shape = shape(&last)?;
        let &[output_nc, c, 7, 7] = last_shape else {
            return Err(err(format!(
                "{last} has shape {last_shape:?}; with {n_blocks} residual blocks the last \
                 convolution is [out, ngf, 7, 7]"
            )));
        };
        if c != ngf {
            return Err(err(format!(
                "{last} takes {c} channels but model.1.weight makes {ngf}"
            )));
        }
        Ok(GeneratorConfig {
            input_nc,
            output_nc,
            ngf,
            n_blocks,
        })
    }
}

impl ResnetGenerator {
    /// A generator holding the weights of `sd` (the repository's keys; stale instance-norm
    /// buffers are ignored), its architecture read from the keys. Every key the generator has
    /// must be there with its shape, and no other: else an error naming the key.
    /// `source_name` names the state_dict in errors (a file name).
    pub fn from_state_dict(
        sd: &StateDict,
        source_name: &str,
        device: Device,
    ) -> Result<ResnetGenerator, ArchitectureError> {
        let sd: StateDict = sd
            .iter()
            .filter(|(k, _)| !is_stale_instance_norm_buffer(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let config = GeneratorConfig::infer(&sd, source_name)?;
        let g = ResnetGenerator::new(&mut Init::new(device, 0), config);
        let named = g.named_parameters();
        for (key, t) in &named {
            let (shape, _) = sd.get(key).ok_or_else(|| ArchitectureError::Missing {
                source_name: source_name.into(),
                key: key.clone(),
            })?;
            if shape.as_slice() != t.shape() {
                return Err(ArchitectureError::Shape {
                    source_name: source_name.into(),
                    key: key.clone(),
                    file: shape.clone(),
                    model: t.shape().to_vec(),
                    config: describe(&config),
                });
            }
        }
        let unexpected: Vec<String> = sd
            .keys()
            .filter(|k| !named.iter().any(|(n, _)| n == *k))
            .cloned()
            .collect();
        if !unexpected.is_empty() {
            return Err(ArchitectureError::Unexpected {
                source_name: source_name.into(),
                keys: unexpected,
                config: describe(&config),
            });
        }
        for (key, t) in &named {
            t.write(&sd[key].1);
        }
        Ok(g)
    }

    /// The weights as a state_dict with the repository's keys (read back from the device).
    pub fn state_dict(&self) -> StateDict {
        self.named_parameters()
            .into_iter()
            .map(|(k, t): (String, Tensor)| (k, (t.shape().to_vec(), t.to_vec())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generator(input_nc: usize, ngf: usize, n_blocks: usize) -> ResnetGenerator {
        let config = GeneratorConfig {
            input_nc,
            output_nc: 3,
            ngf,
            n_blocks,
        };
        ResnetGenerator::new(&mut Init::new(Device::Cpu, 7), config)
    }

    #[test]
    fn a_state_dict_round_trips_with_its_architecture_inferred() {
        let g = generator(1, 3, 4);
        let mut sd = g.state_dict();
        // what old PyTorch versions left in the file for each instance norm
        sd.insert("model.2.running_mean".into(), (vec![3], vec![0.0; 3]));
        sd.insert("model.2.num_batches_tracked".into(), (vec![], vec![0.0]));
        let back = ResnetGenerator::from_state_dict(&sd, "test", Device::Cpu).unwrap();
        assert_eq!(back.config, g.config);
        let x = Tensor::rand_uniform(&[1, 1, 16, 16], -1.0, 1.0, 3, Device::Cpu);
        assert_eq!(back.forward(&x).to_vec(), g.forward(&x).to_vec());
    }

    #[test]
    fn another_architecture_is_refused_naming_the_key() {
        let mut sd = generator(3, 4, 2).state_dict();
        sd.get_mut("model.4.weight").unwrap().0 = vec![8, 5, 3, 3];
        let e = ResnetGenerator::from_state_dict(&sd, "g.pth", Device::Cpu)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("g.pth") && e.contains("model.4.weight"), "{e}");

        let mut sd = generator(3, 4, 2).state_dict();
        sd.insert("model.99.weight".into(), (vec![1], vec![0.0]));
        let e = ResnetGenerator::from_state_dict(&sd, "g.pth", Device::Cpu)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("model.99.weight"), "{e}");

        let mut sd = generator(3, 4, 2).state_dict();
        sd.remove("model.1.weight");
        let e = ResnetGenerator::from_state_dict(&sd, "g.pth", Device::Cpu)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("model.1.weight") && e.contains("missing"), "{e}");

        // a discriminator's state_dict is not a generator's
        let d = crate::model::NLayerDiscriminator::new(
            &mut Init::new(Device::Cpu, 0),
            crate::model::DiscriminatorConfig {
                input_nc: 3,
                ndf: 4,
                n_layers: 3,
            },
        );
        let sd: StateDict = d
            .named_parameters()
            .into_iter()
            .map(|(k, t)| (k, (t.shape().to_vec(), t.to_vec())))
            .collect();
        assert!(ResnetGenerator::from_state_dict(&sd, "d.pth", Device::Cpu).is_err());
    }
}
