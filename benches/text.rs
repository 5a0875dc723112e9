//! The lesson's text pipeline: `Tokenizer::fit_on_texts` on the 25,000 training reviews,
//! `texts_to_sequences` and `pad_sequences(maxlen = 500)` on them; throughput in reviews.
//!
//! The reviews are the real IMDB ones when `aclImdb_v1.tar.gz` is found through `RNNKIT_DATA` or
//! the user cache (never downloaded here), else 25,000 generated reviews of the same size (about
//! 230 words from a Zipf-like vocabulary, with punctuation and `<br />` breaks).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rnnkit::datasets::{self, imdb};
use rnnkit::text::{pad_sequences, strip_html_breaks, Padding, Tokenizer, Truncating};

const REVIEWS: usize = 25_000;
const NUM_WORDS: usize = 10_000;
const MAXLEN: usize = 500;

/// The training reviews of the real archive, if it is on disk; `None` otherwise.
fn real_reviews() -> Option<Vec<String>> {
    let rnnkit_data = std::env::var_os(datasets::DATA_ENV);
    let cache = datasets::cache_dir();
    let path = match imdb::locate(None, rnnkit_data.as_deref(), cache.as_deref()).ok()? {
        imdb::Location::Archive(path) | imdb::Location::Folder(path) => path,
        imdb::Location::Download(_) => return None,
    };
    imdb::load(Some(&path)).ok().map(|reviews| reviews.train.texts)
}

/// Reviews shaped like IMDB's: words drawn with probability ∝ 1/rank from a 50,000-word
/// vocabulary, sentences ended with punctuation, paragraphs split by `<br /><br />`.
fn generated_reviews() -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(11);
    let vocabulary: Vec<String> = (0..50_000).map(|rank| format!("w{rank:x}")).collect();
    // Cumulative weights of a Zipf law with exponent 1.
    let cumulative: Vec<f64> = (1..=vocabulary.len())
        .scan(0.0, |total, rank| {
            *total += 1.0 / rank as f64;
            Some(*total)
        })
        .collect();
    let total = cumulative[cumulative.len() - 1];
    (0..REVIEWS)
        .map(|_| {
            let words = rng.gen_range(40..420);
            let mut review = String::with_capacity(words * 7);
            for position in 0..words {
                let draw = rng.gen_range(0.0..total);
                let rank = cumulative.partition_point(|&weight| weight < draw);
                if position % 17 == 0 && position > 0 {
                    review.push_str(if rng.gen_bool(0.2) { ".<br /><br />" } else { ". " });
                    review.push_str(&vocabulary[rank].to_uppercase());
                } else {
                    review.push_str(if position == 0 { "" } else { " " });
                    review.push_str(&vocabulary[rank]);
                }
                if rng.gen_bool(0.05) {
                    review.push(',');
                }
            }
            review.push('!');
            review
        })
        .collect()
}

fn text_pipeline(c: &mut Criterion) {
    let (source, texts) = match real_reviews() {
        Some(texts) => ("imdb", texts),
        None => ("generated", generated_reviews()),
    };
    let texts: Vec<String> = texts.iter().map(|text| strip_html_breaks(text)).collect();
    let reviews = texts.len() as u64;
    let mut tokenizer = Tokenizer::new().num_words(NUM_WORDS);
    tokenizer.fit_on_texts(&texts);
    let sequences = tokenizer.texts_to_sequences(&texts);

    let mut group = c.benchmark_group(format!("text_{source}_{reviews}_reviews"));
    group.throughput(Throughput::Elements(reviews));
    group.sample_size(10);
    group.bench_function("fit_on_texts", |b| {
        b.iter(|| {
            let mut fresh = Tokenizer::new().num_words(NUM_WORDS);
            fresh.fit_on_texts(black_box(&texts));
            fresh.document_count()
        })
    });
    group.bench_function("texts_to_sequences", |b| {
        b.iter(|| tokenizer.texts_to_sequences(black_box(&texts)).len())
    });
    group.bench_function("pad_sequences_500", |b| {
        b.iter(|| {
            pad_sequences(black_box(&sequences), Some(MAXLEN), Padding::Pre, Truncating::Pre, 0.0)
                .map(|x| x.len())
        })
    });
    group.finish();
}

criterion_group!(benches, text_pipeline);
criterion_main!(benches);
