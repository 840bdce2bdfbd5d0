//! Embeds the portal's templates (`templates/`) into the binary, so the
//! server needs no files beside it.

fn main() {
    minijinja_embed::embed_templates!("templates");
}
